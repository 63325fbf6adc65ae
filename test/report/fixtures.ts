import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunFile } from '../../src/loadtest/run-info.js';
import type { Summary } from '../../src/loadtest/summary.js';

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
}

export function summaryOf(run: FixtureRun, withInfo = true): Summary {
  return {
    metrics: {
      http_reqs: { count: run.count, rate: run.rps },
      http_req_duration: { avg: run.avg, min: 0.5, med: run.med, max: run.p99 * 2, 'p(90)': run.p90, 'p(95)': run.p95, 'p(99)': run.p99 },
      http_req_failed: { passes: run.failed, fails: run.count - run.failed, value: run.failed / run.count },
      iterations: { count: run.count, rate: run.rps },
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
export function writeResults(runs: FixtureRun[], options: { withInfo?: boolean; prometheus?: unknown; run?: RunFile } = {}): string {
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
