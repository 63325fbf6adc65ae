import type { Thresholds } from '../loadtest/profile.js';
import type { RunFile } from '../loadtest/run-info.js';
import { failedRate } from '../loadtest/summary.js';
import { judge, type Verdict } from '../loadtest/verdict.js';
import type { Results, RunRecord } from './load.js';
import { type Agreement, prometheusAgreement } from './prometheus-agreement.js';
import { compareSettings } from './settings.js';

/** The figures of one function, all straight from its summary (milliseconds, percent, per second). */
export interface Figures {
  reqs: number;
  failPct: number;
  avg: number;
  med: number;
  p90: number;
  p95: number;
  p99: number | null;
  rps: number;
}
export type FigureKey = keyof Figures;
export const FIGURE_KEYS: readonly FigureKey[] = ['reqs', 'failPct', 'avg', 'med', 'p90', 'p95', 'p99', 'rps'];

/**
 * Which way a figure improves: latency and failures lower, throughput higher. The request count
 * follows the stages as much as the platform, so it is never called better or worse.
 */
export type Direction = 'lower' | 'higher' | 'neither';
export const DIRECTION: Record<FigureKey | 'meanAvgMs' | 'meanRps' | 'meanFailPct', Direction> = {
  reqs: 'neither',
  failPct: 'lower',
  avg: 'lower',
  med: 'lower',
  p90: 'lower',
  p95: 'lower',
  p99: 'lower',
  rps: 'higher',
  meanAvgMs: 'lower',
  meanRps: 'higher',
  meanFailPct: 'lower',
};

/** How a change reads: better, worse, or neither (no direction, or too small to show). */
export type Tone = 'better' | 'worse' | 'same';

export function toneOf(key: keyof typeof DIRECTION, c: Change): Tone {
  const direction = DIRECTION[key];
  // A change that prints as ±0.0% is no change to the reader either.
  if (direction === 'neither' || c.delta === 0 || (c.pct !== null && Math.abs(c.pct) < 0.05)) return 'same';
  return c.delta < 0 === (direction === 'lower') ? 'better' : 'worse';
}

export interface Change {
  baseline: number;
  delta: number;
  /** null when the baseline is 0. */
  pct: number | null;
}

export interface FunctionRow {
  function: string;
  runtime: string;
  figures: Figures;
  verdict: Verdict | null;
  /** Stopped before its stages ended (Ctrl-C): shown as INTERRUPTED, never as a pass. */
  interrupted: boolean;
  /** Per-figure change against the baseline run of the same function. */
  changes?: Partial<Record<FigureKey, Change>>;
  /** Open-model runs: iterations that found no free VU (the summary's dropped_iterations). */
  dropped?: number;
  /** The control plane's p50/p95 over the same window (Prometheus) beside the client's, when snapshotted. */
  server?: Agreement;
}

export interface RuntimeRow {
  runtime: string;
  functions: number;
  meanAvgMs: number;
  meanRps: number;
  meanFailPct: number;
  changes?: Partial<Record<'meanAvgMs' | 'meanRps' | 'meanFailPct', Change>>;
}

/** One setting in which the baseline run was made differently. */
export interface SettingDifference {
  setting: string;
  current: string;
  baseline: string;
  /** True when the difference explains rather than invalidates (e.g. another commit). */
  informational: boolean;
  /** The one line the terminal and the pages print. */
  line: string;
}

export interface SettingsComparison {
  differences: SettingDifference[];
  /** Why the settings could not be compared (a run without run.json). */
  unknown?: string;
}

/** A function whose p95 or req/s is worse than the baseline's by more than the allowed percentage. */
export interface Regression {
  function: string;
  metric: 'p95' | 'rps';
  current: number;
  baseline: number;
  /** Change in percent of the baseline (positive = higher). */
  pct: number;
}

export interface RegressionCheck {
  maxPct: number;
  regressions: Regression[];
}

export interface Report {
  generatedAt: string;
  resultsDir: string;
  baselineDir?: string;
  /** How the run was made (its run.json), null when the results directory has none. */
  run: RunFile | null;
  /** With a baseline: how its settings differ from this run's. */
  settings?: SettingsComparison;
  /** With --fail-on-regression. */
  regressionCheck?: RegressionCheck;
  functions: FunctionRow[];
  /** Function names; '' when no complete run sent a request (the printed forms then omit the line). */
  highlights: { fastest: string; slowest: string; highestThroughput: string };
  runtimes: RuntimeRow[];
  /** False when any run failed a threshold or was interrupted. */
  thresholdsPassed: boolean;
  /** Functions whose run was interrupted. */
  interrupted: string[];
}

export function figuresOf(run: RunRecord): Figures {
  const { metrics } = run.summary;
  const d = metrics.http_req_duration;
  return {
    reqs: metrics.http_reqs.count,
    failPct: failedRate(run.summary) * 100,
    avg: d.avg,
    med: d.med,
    p90: d['p(90)'],
    p95: d['p(95)'],
    p99: d['p(99)'] ?? null,
    // Req/s is iterations.rate: one iteration is one invocation (also in async mode).
    rps: metrics.iterations.rate,
  };
}

export function change(current: number, baseline: number): Change {
  const delta = current - baseline;
  return { baseline, delta, pct: baseline === 0 ? (delta === 0 ? 0 : null) : (delta / baseline) * 100 };
}

function changesOf<K extends string>(
  current: Record<K, number | null>,
  baseline: Record<K, number | null>,
  keys: readonly K[],
): Partial<Record<K, Change>> {
  const out: Partial<Record<K, Change>> = {};
  for (const key of keys) {
    const now = current[key];
    const before = baseline[key];
    if (now !== null && before !== null) out[key] = change(now, before);
  }
  return out;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function runtimeRows(rows: readonly FunctionRow[]): RuntimeRow[] {
  const byRuntime = new Map<string, FunctionRow[]>();
  for (const row of rows) byRuntime.set(row.runtime, [...(byRuntime.get(row.runtime) ?? []), row]);
  return [...byRuntime.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([runtime, list]) => ({
      runtime,
      functions: list.length,
      meanAvgMs: mean(list.map((r) => r.figures.avg)),
      meanRps: mean(list.map((r) => r.figures.rps)),
      meanFailPct: mean(list.map((r) => r.figures.failPct)),
    }));
}

/**
 * Build the report from loaded results. Thresholds come from each summary (what the run was
 * judged by), else from `fallbackThresholds(runtime)` (the current profile), else none.
 */
export function buildReport(
  results: Results,
  options: { baseline?: Results; fallbackThresholds?: (runtime: string) => Thresholds | undefined; now?: Date } = {},
): Report {
  const functions: FunctionRow[] = results.runs.map((run) => {
    const limits = run.summary.nanofaas?.thresholds ?? options.fallbackThresholds?.(run.runtime);
    const dropped = run.summary.metrics.dropped_iterations?.count;
    const server = prometheusAgreement(
      run.summary,
      results.prometheus?.windows.find((w) => w.function === run.function),
    );
    return {
      function: run.function,
      runtime: run.runtime,
      figures: figuresOf(run),
      verdict: limits ? judge(run.summary, limits) : null,
      interrupted: run.summary.nanofaas?.interrupted === true,
      ...(dropped !== undefined ? { dropped } : {}),
      ...(server ? { server } : {}),
    };
  });
  const runtimes = runtimeRows(functions);
  if (options.baseline) {
    const before = new Map(options.baseline.runs.map((run) => [run.function, figuresOf(run)]));
    for (const row of functions) {
      const base = before.get(row.function);
      if (base) row.changes = changesOf(row.figures, base, FIGURE_KEYS);
    }
    const baseRuntimes = new Map(
      runtimeRows(
        options.baseline.runs.map((run) => ({
          function: run.function,
          runtime: run.runtime,
          figures: figuresOf(run),
          verdict: null,
          interrupted: false,
        })),
      ).map((r) => [r.runtime, r]),
    );
    for (const row of runtimes) {
      const base = baseRuntimes.get(row.runtime);
      if (base) row.changes = changesOf(row, base, ['meanAvgMs', 'meanRps', 'meanFailPct'] as const);
    }
  }
  // A run that sent no requests has an avg of 0 by construction, not by measurement, and an
  // interrupted one covers part of the profile: neither ranks.
  const measured = functions.filter((row) => row.figures.reqs > 0 && !row.interrupted);
  const byAvg = [...measured].sort((a, b) => a.figures.avg - b.figures.avg);
  const byRps = [...measured].sort((a, b) => b.figures.rps - a.figures.rps);
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    resultsDir: results.dir,
    ...(options.baseline ? { baselineDir: options.baseline.dir } : {}),
    run: results.run ?? null,
    ...(options.baseline ? { settings: compareSettings(results.run, options.baseline.run) } : {}),
    functions,
    highlights: {
      fastest: byAvg[0]?.function ?? '',
      slowest: byAvg.at(-1)?.function ?? '',
      highestThroughput: byRps[0]?.function ?? '',
    },
    runtimes,
    thresholdsPassed: functions.every((row) => !row.interrupted && (row.verdict === null || row.verdict.passed)),
    interrupted: functions.filter((row) => row.interrupted).map((row) => row.function),
  };
}
