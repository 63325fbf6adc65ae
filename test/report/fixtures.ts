import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunFile } from '../../src/loadtest/run-info.js';
import type { Summary } from '../../src/loadtest/summary.js';
import type { FindMaxFile } from '../../src/loadtest/find-max.js';
import { type SeriesFile, writeSeries } from '../../src/loadtest/timeseries.js';

export interface FixtureRun {
  fn: string;
  runtime: string;
  count: number;
  failed: number;
  avg: number;
  med: number;
  p90: number;
  p95: number;
  p99: number;
  rps: number;
  /** Open-model runs: iterations dropped for lack of VUs. */
  dropped?: number;
}

export function summaryOf(run: FixtureRun, withInfo = true): Summary {
  return {
    metrics: {
      http_reqs: { count: run.count, rate: run.rps },
      http_req_duration: { avg: run.avg, min: 0.5, med: run.med, max: run.p99 * 2, 'p(90)': run.p90, 'p(95)': run.p95, 'p(99)': run.p99 },
      http_req_failed: { passes: run.failed, fails: run.count - run.failed, value: run.failed / run.count },
      iterations: { count: run.count, rate: run.rps },
      ...(run.dropped !== undefined ? { dropped_iterations: { count: run.dropped, rate: run.dropped / 110 } } : {}),
    },
    ...(withInfo
      ? {
          nanofaas: {
            function: run.fn,
            workload: run.fn.replace(/-[a-z]+$/, ''),
            runtime: run.runtime,
            engine: 'builtin' as const,
            mode: 'sync' as const,
            start: '2026-01-01T10:00:00.000Z',
            end: '2026-01-01T10:01:50.000Z',
            thresholds:
              run.runtime === 'exec' ? { p95Ms: 5000, p99Ms: 10000, failedRate: 0.2 } : { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 },
          },
        }
      : {}),
  };
}

export const RUNS: FixtureRun[] = [
  {
    fn: 'word-stats-java',
    runtime: 'java',
    count: 750,
    failed: 66,
    avg: 1763.2,
    med: 1700.5,
    p90: 2400.1,
    p95: 2566.4,
    p99: 5100.9,
    rps: 6.8,
  },
  {
    fn: 'word-stats-python',
    runtime: 'python',
    count: 12000,
    failed: 0,
    avg: 15.7,
    med: 12.25,
    p90: 40.5,
    p95: 66.2,
    p99: 90.1,
    rps: 107.7,
  },
  {
    fn: 'json-transform-python',
    runtime: 'python',
    count: 12400,
    failed: 0,
    avg: 10.04,
    med: 8.5,
    p90: 12.0,
    p95: 13.8,
    p99: 20.3,
    rps: 113.1,
  },
  { fn: 'word-stats-exec', runtime: 'exec', count: 4000, failed: 4, avg: 235.7, med: 200.0, p90: 420.0, p95: 496.7, p99: 700.2, rps: 37.2 },
];

/** A results directory like `loadtest` leaves: summaries, logs, test windows. */
export function writeResults(
  runs: FixtureRun[],
  options: { withInfo?: boolean; prometheus?: unknown; run?: RunFile; series?: SeriesFile[] } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-results-'));
  mkdirSync(dir, { recursive: true });
  for (const run of runs) {
    writeFileSync(join(dir, `${run.fn}.json`), JSON.stringify(summaryOf(run, options.withInfo ?? true)));
    writeFileSync(join(dir, `${run.fn}.log`), 'log\n');
  }
  writeFileSync(
    join(dir, 'test-windows.jsonl'),
    runs
      .map((r) =>
        JSON.stringify({ function: r.fn, runtime: r.runtime, start: '2026-01-01T10:00:00.000Z', end: '2026-01-01T10:01:50.000Z' }),
      )
      .join('\n') + '\n',
  );
  if (options.prometheus !== undefined) writeFileSync(join(dir, 'prometheus.json'), JSON.stringify(options.prometheus));
  if (options.run !== undefined) writeFileSync(join(dir, 'run.json'), JSON.stringify(options.run));
  for (const file of options.series ?? []) writeSeries(dir, file);
  return dir;
}

/** A run.json as loadtest writes it for RUNS (the builtin engine on a 2-CPU machine). */
export function runFixture(overrides: Partial<RunFile> = {}): RunFile {
  return {
    schemaVersion: 1,
    engine: 'builtin',
    mode: 'sync',
    stages: [
      { duration: '10s', target: 5 },
      { duration: '30s', target: 10 },
    ],
    thinkTimeSeconds: 0.1,
    coolDownSeconds: 10,
    thresholds: {
      exec: { p95Ms: 5000, p99Ms: 10000, failedRate: 0.2 },
      java: { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 },
      python: { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 },
    },
    target: { name: 'local', apiUrl: 'http://127.0.0.1:8080' },
    functions: RUNS.map((r) => ({ name: r.fn, runtime: r.runtime, workload: r.fn.replace(/-[a-z]+$/, '') })),
    nanofaas: { version: '0.1.0', commit: '0123456789abcdef0123456789abcdef01234567' },
    versions: { node: 'v20.19.0' },
    host: { cpus: 2, cpuModel: 'Test CPU @ 2.00GHz', platform: 'linux', arch: 'x64' },
    start: '2026-01-01T10:00:00.000Z',
    end: '2026-01-01T10:07:40.000Z',
    ...overrides,
  };
}

/** A prometheus.json like loadtest's snapshot step writes. */
export function prometheusFixture(fns: string[]): unknown {
  const points = (base: number) => Array.from({ length: 20 }, (_, i) => [1767261600 + i * 5, base + (i % 5)]);
  return {
    prometheusUrl: 'http://127.0.0.1:9090',
    windows: fns.map((fn) => ({
      function: fn,
      runtime: 'python',
      start: '2026-01-01T10:00:00.000Z',
      end: '2026-01-01T10:01:50.000Z',
      stepSeconds: 5,
      series: {
        latency: { p50: points(5), p95: points(20), p99: points(40) },
        queueWait: { p50: points(0.5), p95: points(2), p99: points(4) },
        e2e: { p50: points(6), p95: points(25), p99: points(50) },
      },
    })),
  };
}

/**
 * The eight demo functions of a long run: most answer in a few ms at ~100 req/s, the exec ones
 * take 120–600 ms (the case where linear bars squash everything else), one failing run and one
 * open-model run with drops.
 */
export const EIGHT_RUNS: FixtureRun[] = [
  { fn: 'word-stats-java', runtime: 'java', count: 30000, failed: 0, avg: 3.1, med: 2.6, p90: 4.8, p95: 6.2, p99: 11.4, rps: 100.2 },
  { fn: 'word-stats-python', runtime: 'python', count: 29000, failed: 12, avg: 4.4, med: 3.9, p90: 6.6, p95: 8.1, p99: 15.3, rps: 96.8 },
  { fn: 'word-stats-node', runtime: 'node', count: 30500, failed: 0, avg: 2.2, med: 1.9, p90: 3.1, p95: 3.9, p99: 7.7, rps: 101.7 },
  { fn: 'word-stats-exec', runtime: 'exec', count: 2700, failed: 3, avg: 160.4, med: 142.0, p90: 240.7, p95: 301.3, p99: 588.0, rps: 9.1 },
  { fn: 'json-transform-java', runtime: 'java', count: 30100, failed: 0, avg: 2.9, med: 2.4, p90: 4.2, p95: 5.5, p99: 9.9, rps: 100.4 },
  {
    fn: 'json-transform-python',
    runtime: 'python',
    count: 29400,
    failed: 0,
    avg: 3.8,
    med: 3.3,
    p90: 5.5,
    p95: 7.0,
    p99: 12.8,
    rps: 98.1,
    dropped: 37,
  },
  { fn: 'json-transform-node', runtime: 'node', count: 30600, failed: 0, avg: 2.0, med: 1.7, p90: 2.9, p95: 3.6, p99: 6.9, rps: 102.0 },
  {
    fn: 'json-transform-exec',
    runtime: 'exec',
    count: 2500,
    failed: 0,
    avg: 175.9,
    med: 151.3,
    p90: 262.4,
    p95: 330.8,
    p99: 611.2,
    rps: 8.4,
  },
];

/** A deterministic wobble in [0, 1) so the lines look measured, not drawn with a ruler. */
const wobble = (i: number, seed: number): number => {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x);
};

/**
 * A per-second series consistent with the run: VUs ramp 0 → 10 over 30 s, hold, ramp down over the
 * last 10 s; throughput follows the VUs; a latency spike around 2/3 of the run.
 */
export function seriesFixture(run: FixtureRun, seconds: number, seed = 1): SeriesFile {
  const samples = Array.from({ length: seconds }, (_, t) => {
    const vus = t < 30 ? Math.ceil(((t + 1) / 30) * 10) : t >= seconds - 10 ? Math.max(1, Math.ceil(((seconds - t) / 10) * 10)) : 10;
    const requests = Math.round((run.rps * vus * (0.9 + 0.2 * wobble(t, seed))) / 10);
    const spike = Math.abs(t - Math.round(seconds * 0.66)) < 4 ? 3 : 1;
    const p50 = Number((run.med * (0.9 + 0.2 * wobble(t, seed + 1))).toFixed(3));
    const p95 = Number((run.p95 * spike * (0.85 + 0.3 * wobble(t, seed + 2))).toFixed(3));
    const failed = run.failed > 0 && t % 37 === 5 ? Math.min(requests, 2) : 0;
    const dropped = (run.dropped ?? 0) > 0 && t % 29 === 7 ? 3 : 0;
    return { t, requests, failed, p50, p95, p99: Number((p95 * 1.6).toFixed(3)), vus, dropped };
  });
  return { schemaVersion: 1, function: run.fn, engine: 'builtin', start: '2026-01-01T10:00:00.000Z', samples };
}

/** A prometheus.json with whole-window figures (agreement) and an e2e p95 line every 5 s. */
export function prometheusWithWholeFixture(runs: FixtureRun[], seconds: number, disagree: string[] = []): unknown {
  const start = Date.parse('2026-01-01T10:00:00.000Z') / 1000;
  const line = (base: number, seed: number) =>
    Array.from({ length: Math.floor(seconds / 5) }, (_, i) => [start + i * 5, Number((base * (0.9 + 0.25 * wobble(i, seed))).toFixed(3))]);
  return {
    prometheusUrl: 'http://127.0.0.1:9090',
    windows: runs.map((run, index) => {
      const factor = disagree.includes(run.fn) ? 1.6 : 1.05;
      const quantiles = (p50: number, p95: number) => ({ p50, p95, p99: p95 * 1.5 });
      return {
        function: run.fn,
        runtime: run.runtime,
        start: '2026-01-01T10:00:00.000Z',
        end: new Date((start + seconds) * 1000).toISOString(),
        stepSeconds: 5,
        series: {
          latency: { p50: line(run.med * 0.8, index), p95: line(run.p95 * 0.8, index), p99: line(run.p99 * 0.8, index) },
          queueWait: { p50: line(0.05, index), p95: line(0.2, index), p99: line(0.4, index) },
          e2e: { p50: line(run.med * factor, index), p95: line(run.p95 * factor, index + 3), p99: line(run.p99 * factor, index) },
        },
        whole: {
          at: new Date((start + seconds + 2) * 1000).toISOString(),
          complete: true,
          percentiles: {
            latency: quantiles(run.med * 0.8, run.p95 * 0.8),
            queueWait: quantiles(0.05, 0.2),
            e2e: quantiles(Number((run.med * factor).toFixed(3)), Number((run.p95 * factor).toFixed(3))),
          },
          counts: { latency: run.count, queueWait: run.count, e2e: run.count },
        },
      };
    }),
  };
}

/**
 * A find-max.json for the eight functions: a few ×1.5 steps each; exec breaks early on p95, node
 * reaches the cap. Its own figure and table go on the same page.
 */
export function findMaxFixture(runs: FixtureRun[]): FindMaxFile {
  return {
    slo: { expression: 'p95<20ms,failed<1%', latency: [{ percentile: 95, maxMs: 20 }], maxFailedRate: 0.01 },
    mode: 'sync',
    startRate: 10,
    factor: 1.5,
    maxRate: 3000,
    stepDurationSeconds: 5,
    maxIncompleteRate: 0.01,
    functions: runs.map((run) => {
      const exec = run.runtime === 'exec';
      const capped = run.runtime === 'node';
      const rates = exec ? [10, 15] : [10, 15, 23, 35, 53, 80, 120, 180, 270, 405, 608, 912];
      const steps = rates.map((rate, i) => {
        const last = i === rates.length - 1;
        const passed = capped || !last;
        return {
          rate,
          achievedRate: rate * (passed ? 0.99 : 0.8),
          scheduled: rate * 5,
          iterations: Math.round(rate * 5 * 0.99),
          dropped: passed ? 0 : Math.round(rate * 0.5),
          p50Ms: run.med,
          p95Ms: passed ? Math.min(run.p95, 19) : 42.5,
          p99Ms: run.p99,
          failedRate: 0,
          passed,
          ...(passed ? {} : { breach: 'p95 42.5 ms ≥ 20 ms' }),
        };
      });
      const held = steps.filter((st) => st.passed).at(-1);
      return {
        function: run.fn,
        runtime: run.runtime,
        maxRate: held ? held.rate : null,
        stoppedBy: capped ? ('max-rate' as const) : ('breach' as const),
        ...(capped ? {} : { reason: 'p95 42.5 ms ≥ 20 ms' }),
        steps,
        start: '2026-01-01T10:00:00.000Z',
        end: '2026-01-01T10:01:00.000Z',
      };
    }),
  };
}
