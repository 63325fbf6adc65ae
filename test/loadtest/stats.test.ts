import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { RunStats } from '../../src/loadtest/stats.js';
import { failedRate, Summary } from '../../src/loadtest/summary.js';
import { judge } from '../../src/loadtest/verdict.js';

const info = {
  function: 'f',
  workload: 'word-stats',
  runtime: 'python',
  engine: 'builtin',
  mode: 'sync',
  start: '2026-01-01T00:00:00.000Z',
  end: '2026-01-01T00:00:10.000Z',
} as const;

/** Exact nearest-rank percentile, the reference the histogram is held to. */
function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe('percentile math (HDR histogram)', () => {
  it('matches a uniform 1..10000 ms distribution within 0.1%', () => {
    const stats = new RunStats();
    for (let ms = 1; ms <= 10_000; ms++) stats.recordRequest(ms, false);
    for (const [p, expected] of [
      [50, 5000],
      [90, 9000],
      [95, 9500],
      [99, 9900],
    ] as const) {
      expect(Math.abs(stats.percentileMs(p) - expected) / expected).toBeLessThan(0.001);
    }
    const d = stats.toSummary(10_000, info).metrics.http_req_duration;
    expect(d.avg).toBe(5000.5); // kept exactly, not from buckets
    expect(d.min).toBe(1);
    expect(d.max).toBe(10_000);
  });

  it('matches exact percentiles of a skewed distribution with sub-millisecond samples', () => {
    const samples: number[] = [];
    let x = 12345;
    const stats = new RunStats();
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const u = x / 2147483648;
      const ms = 0.2 + -Math.log(1 - u) * 15; // exponential, mean ~15 ms
      samples.push(ms);
      stats.recordRequest(ms, false);
    }
    samples.sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(samples, p);
      expect(Math.abs(stats.percentileMs(p) - exact) / exact, `p${p}`).toBeLessThan(0.002);
    }
  });

  it('a single sample is every percentile', () => {
    const stats = new RunStats();
    stats.recordRequest(42, false);
    for (const p of [50, 90, 99]) expect(stats.percentileMs(p)).toBeCloseTo(42, 1);
  });
});

describe('summary shape (k6 --summary-export)', () => {
  it('carries counts, rates, failure rate, checks and p(99)', () => {
    const stats = new RunStats();
    for (let i = 0; i < 90; i++) {
      stats.recordRequest(10, false);
      stats.recordCheck('status is 200', true);
      stats.recordIteration();
    }
    for (let i = 0; i < 10; i++) {
      stats.recordRequest(100, true);
      stats.recordCheck('status is 200', false);
      stats.recordIteration();
    }
    stats.maxVus = 4;
    const summary = stats.toSummary(20_000, info);
    expect(Value.Check(Summary, summary)).toBe(true);
    expect(summary.metrics.http_reqs).toEqual({ count: 100, rate: 5 });
    expect(summary.metrics.iterations).toEqual({ count: 100, rate: 5 });
    // k6 semantics: for http_req_failed, "passes" counts the failed requests.
    expect(summary.metrics.http_req_failed).toEqual({ passes: 10, fails: 90, value: 0.1 });
    expect(failedRate(summary)).toBe(0.1);
    expect(summary.metrics.checks).toEqual({ passes: 90, fails: 10, value: 0.9 });
    expect(summary.root_group?.checks?.['status is 200']).toEqual({ name: 'status is 200', passes: 90, fails: 10 });
    expect(Object.keys(summary.metrics.http_req_duration)).toEqual(['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)']);
    expect(summary.metrics.http_req_duration.avg).toBe(19);
    expect(summary.metrics.http_req_duration.med).toBeCloseTo(10, 1);
    expect(summary.metrics.http_req_duration['p(95)']).toBeCloseTo(100, 0);
    expect(summary.metrics.vus_max).toEqual({ value: 4 });
    expect(summary.nanofaas).toEqual(info);
  });

  it('an empty run gives zeros, not NaN', () => {
    const summary = new RunStats().toSummary(1000, info);
    expect(summary.metrics.http_req_duration).toEqual({ avg: 0, min: 0, med: 0, max: 0, 'p(90)': 0, 'p(95)': 0, 'p(99)': 0 });
    expect(summary.metrics.http_req_failed.value).toBe(0);
  });

  it('judges thresholds with a strict less-than, like k6', () => {
    const stats = new RunStats();
    for (let i = 0; i < 100; i++) stats.recordRequest(i < 96 ? 10 : 3000, i >= 98);
    const summary = stats.toSummary(1000, info);
    const verdict = judge(summary, { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 });
    expect(verdict.checks.map((c) => [c.expression, c.passed])).toEqual([
      ['p(95)<3000', true],
      ['p(99)<5000', true],
      ['rate<0.15', true],
    ]);
    const strict = judge(summary, { p95Ms: 3000, p99Ms: 3000, failedRate: 0.02 });
    expect(strict.passed).toBe(false);
    expect(strict.checks.filter((c) => !c.passed).map((c) => c.expression)).toEqual(['p(99)<3000', 'rate<0.02']);
  });
});
