import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEARCH,
  FindMaxFile,
  judgeStep,
  readFindMax,
  searchBoundMs,
  searchMax,
  type SearchSettings,
  writeFindMax,
} from '../../src/loadtest/find-max.js';
import { parseSlo, sloBreach } from '../../src/loadtest/slo.js';
import type { Summary } from '../../src/loadtest/summary.js';
import { findMaxChart, findMaxHtml, findMaxMarkdown, findMaxTable } from '../../src/report/find-max-section.js';

/** A step summary as the engine writes it: `iterations` of `scheduled` completed, `dropped` dropped. */
function summary(p95: number, iterations: number, opts: { failed?: number; dropped?: number } = {}): Summary {
  return {
    metrics: {
      http_reqs: { count: iterations, rate: iterations },
      http_req_duration: { avg: p95 / 2, min: 1, med: p95 / 2, max: p95 * 2, 'p(90)': p95 * 0.9, 'p(95)': p95, 'p(99)': p95 * 1.5 },
      http_req_failed: {
        passes: opts.failed ?? 0,
        fails: iterations - (opts.failed ?? 0),
        value: (opts.failed ?? 0) / Math.max(1, iterations),
      },
      iterations: { count: iterations, rate: iterations },
      ...(opts.dropped ? { dropped_iterations: { count: opts.dropped, rate: opts.dropped } } : {}),
    },
  };
}

const settings = (over: Partial<SearchSettings> = {}): SearchSettings => ({
  ...DEFAULT_SEARCH,
  slo: parseSlo('p95<20ms'),
  stepDurationMs: 1000,
  ...over,
});

describe('--slo', () => {
  it('reads percentiles in ms or s and a failure limit, 1% when none is given', () => {
    expect(parseSlo('p95<20ms')).toEqual({
      expression: 'p95<20ms,failed<1%',
      latency: [{ percentile: 95, maxMs: 20 }],
      maxFailedRate: 0.01,
    });
    expect(parseSlo('p99<1.5s, failed<0.5%')).toEqual({
      expression: 'p99<1500ms,failed<0.5%',
      latency: [{ percentile: 99, maxMs: 1500 }],
      maxFailedRate: 0.005,
    });
    expect(parseSlo('p50<5ms,p99<2s').latency).toEqual([
      { percentile: 50, maxMs: 5 },
      { percentile: 99, maxMs: 2000 },
    ]);
  });

  it('refuses bad input in one line that shows the form', () => {
    for (const [text, message] of [
      ['p96<20ms', "--slo 'p96<20ms': percentile p96 is not one of p50, p90, p95, p99"],
      ['p95<20', "--slo 'p95<20' is not an SLO (expected p50|p90|p95|p99<N(ms|s) or failed<N%, comma-separated, e.g. p95<20ms,failed<1%)"],
      ['failed<1%', "--slo 'failed<1%' has no latency limit"],
      ['p95<0ms', "--slo 'p95<0ms': the limit must be above 0"],
      ['', '--slo is empty'],
    ] as const) {
      expect(() => parseSlo(text)).toThrow(message);
    }
  });

  it('judges a step: latency, failures, then iterations that did not complete', () => {
    const s = settings();
    expect(sloBreach(s.slo, summary(19.9, 100))).toBeUndefined();
    expect(sloBreach(s.slo, summary(20, 100))).toBe('p95 20.0 ms ≥ 20ms');
    expect(sloBreach(s.slo, summary(5, 100, { failed: 1 }))).toBe('1.00% failed ≥ 1%');
    // 100/s for 1 s schedules 100: 95 done, 3 dropped, 2 never answered.
    const step = judgeStep(100, summary(5, 95, { dropped: 3 }), s);
    expect(step).toMatchObject({ rate: 100, scheduled: 100, iterations: 95, dropped: 3, passed: false });
    expect(step.breach).toBe('5.0% of iterations did not complete (3 dropped, no free VU; 2 unanswered)');
    expect(judgeStep(100, summary(5, 99, { dropped: 1 }), s).passed).toBe(true);
  });
});

describe('find-max search', () => {
  /** A fake function that keeps p95 at 5 ms up to `capacity` req/s, and 50 ms above it. */
  const fakeRun = (capacity: number, rates: number[]) => async (rate: number, purpose: 'warm-up' | 'step') => {
    if (purpose === 'step') rates.push(rate);
    return { summary: summary(rate <= capacity ? 5 : 50, rate), interrupted: false };
  };

  it('rises ×1.5 until the SLO breaks, then narrows between the last good and first bad rate', async () => {
    const rates: number[] = [];
    const found = await searchMax(fakeRun(60, rates), settings());
    // 10, 15, 23, 35, 53 hold; 80 breaks twice; then 67 (breaks twice) and 60 (holds).
    expect(rates).toEqual([10, 15, 23, 35, 53, 80, 80, 67, 67, 60]);
    expect(found.maxRate).toBe(60);
    expect(found.stoppedBy).toBe('breach');
    expect(found.reason).toBe('67/s: p95 50.0 ms ≥ 20ms');
    expect(found.steps.map((s) => s.passed)).toEqual([true, true, true, true, true, false, false, false, false, true]);
    expect(found.steps.map((s) => s.retry === true)).toEqual([false, false, false, false, false, false, true, false, true, false]);
    expect(found.best?.metrics.http_req_duration['p(95)']).toBe(5);
  });

  it('stops at --max-rate when the function never breaks, and reports no rate when even the start breaks', async () => {
    const rates: number[] = [];
    const capped = await searchMax(fakeRun(1e9, rates), settings({ maxRate: 40 }));
    expect(rates).toEqual([10, 15, 23, 35, 40]);
    expect(capped).toMatchObject({ maxRate: 40, stoppedBy: 'max-rate' });
    const none = await searchMax(fakeRun(1, []), settings());
    expect(none).toMatchObject({ maxRate: null, stoppedBy: 'breach', reason: '10/s: p95 50.0 ms ≥ 20ms' });
    expect(none.steps).toHaveLength(2);
    // Bounded: warm-up, then every rising step to the cap and the refinements, each maybe twice, each with its grace.
    expect(searchBoundMs(settings({ maxRate: 40 }), 1000)).toBe((1 + (5 + 2) * 2) * 2000);
  });

  it('a breach that does not repeat is noise: the search goes on rising', async () => {
    const rates: number[] = [];
    let calls = 0;
    const found = await searchMax(
      async (rate, purpose) => {
        if (purpose === 'step') rates.push(rate);
        calls += 1;
        // The first run at 23/s hits a hiccup; its repeat is fine.
        const hiccup = rate === 23 && rates.filter((r) => r === 23).length === 1;
        return { summary: summary(hiccup || rate > 40 ? 50 : 5, rate), interrupted: false };
      },
      settings({ refineSteps: 0 }),
    );
    expect(rates).toEqual([10, 15, 23, 23, 35, 53, 53]);
    expect(found.maxRate).toBe(35);
    expect(calls).toBe(8);
  });

  it('find-max.json round-trips through its schema, and the report draws it on a log scale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'find-max-'));
    const functions = [
      { name: 'word-stats-exec', runtime: 'exec', capacity: 30 },
      { name: 'word-stats-node', runtime: 'node', capacity: 1000 },
      { name: 'word-stats-java', runtime: 'java', capacity: 0 },
    ];
    const file: FindMaxFile = {
      slo: parseSlo('p95<20ms'),
      mode: 'sync',
      startRate: 10,
      factor: 1.5,
      maxRate: 3000,
      stepDurationSeconds: 1,
      maxIncompleteRate: 0.01,
      functions: [],
    };
    for (const f of functions) {
      const found = await searchMax(fakeRun(f.capacity, []), settings());
      file.functions.push({
        function: f.name,
        runtime: f.runtime,
        maxRate: found.maxRate,
        stoppedBy: found.stoppedBy,
        ...(found.reason ? { reason: found.reason } : {}),
        steps: found.steps,
        start: '2026-01-01T00:00:00.000Z',
        end: '2026-01-01T00:01:00.000Z',
      });
    }
    writeFindMax(dir, file);
    expect(Value.Check(FindMaxFile, readFindMax(dir))).toBe(true);
    const maxima = file.functions.map((f) => f.maxRate);
    expect(maxima[0]).toBeGreaterThanOrEqual(27);
    expect(maxima[0]).toBeLessThanOrEqual(30);
    expect(maxima[1]).toBeGreaterThan(900);
    expect(maxima[2]).toBeNull();

    const svg = findMaxChart(file.functions);
    // Decade ticks 10 … 1k span both: the exec bar is a third of the node bar, not a sliver.
    for (const tick of ['>10<', '>100<', '>1k<']) expect(svg).toContain(tick);
    const widths = [...svg.matchAll(/<rect class="bar" x="170" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect((widths[0] ?? 0) / (widths[1] ?? 1)).toBeGreaterThan(0.2);
    expect(svg).toContain('none held');
    const html = findMaxHtml(dir).join('\n');
    expect(html).toContain('<h2>Highest sustained rate (find-max)</h2>');
    expect(html).toContain('SLO p95&lt;20ms,failed&lt;1%');
    const md = findMaxMarkdown(dir);
    expect(md).toContain('| word-stats-java | java | none | – | – | 2 | 10/s: p95 50.0 ms ≥ 20ms |');
    const table = findMaxTable(dir);
    expect(table?.rows[0]).toEqual(['Function', 'Runtime', 'Max rate', 'p95 there', 'Failed', 'Steps', 'Next rate broke on']);
    expect(Math.max(...(table?.rows.map((r) => r.join('  ').length) ?? [0]))).toBeLessThanOrEqual(120);
    // No file, or a corrupt one: the section is left out and the rest of the report renders.
    expect(findMaxHtml(mkdtempSync(join(tmpdir(), 'none-')))).toEqual([]);
    writeFileSync(join(dir, 'find-max.json'), '{"slo": 1}');
    expect(() => readFindMax(dir)).toThrow(/find-max.json: corrupt result file, \/mode Expected required property/);
    expect(findMaxHtml(dir)).toEqual([]);
  });
});
