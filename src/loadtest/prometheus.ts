import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { METRICS } from '@nanofaas/control-plane/contracts';
import { PROMETHEUS_FILE, type TestWindow } from './results.js';

/** The control-plane histograms a test window is snapshotted from (docs/design.md §6.1). */
export const SNAPSHOT_METRICS = {
  latency: METRICS.latency,
  queueWait: METRICS.queueWait,
  e2e: METRICS.e2eLatency,
} as const;
export type SnapshotMetric = keyof typeof SNAPSHOT_METRICS;

export const SNAPSHOT_QUANTILES = [0.5, 0.95, 0.99] as const;

/** [unix seconds, value in milliseconds]; NaN points (no traffic) are dropped. */
export type Point = [number, number];

export type QuantileKey = 'p50' | 'p95' | 'p99';

/**
 * Percentiles over the whole test window, from the bucket counts the window added: the figures to
 * set beside the client's own p50/p95/p99 (src/report/prometheus-agreement.ts).
 */
export interface WholeWindow {
  /** The instant the counts were read at: the latest scrape once all had one after the window's end, else the end. */
  at: string;
  /** A scrape after the window's end was ingested; false: the last scrape interval's calls may be missing. */
  complete: boolean;
  /** Milliseconds; null when the metric saw no observation in the window. */
  percentiles: Record<SnapshotMetric, Record<QuantileKey, number | null>>;
  /** Observations in the window per metric (the histogram's _count); null when the series is absent or went down (restart). */
  counts: Record<SnapshotMetric, number | null>;
}

export interface WindowSnapshot extends TestWindow {
  stepSeconds: number;
  /** series[metric]["p50" | "p95" | "p99"] */
  series: Record<SnapshotMetric, Record<string, Point[]>>;
  /** Absent in files written before whole-window percentiles existed. */
  whole?: WholeWindow;
}

export interface PrometheusFile {
  prometheusUrl: string;
  windows: WindowSnapshot[];
}

export function quantileQuery(metric: string, quantile: number, fn: string, rangeSeconds: number): string {
  const selector = `${metric}_bucket{function=${JSON.stringify(fn)}}`;
  return `histogram_quantile(${quantile}, sum by (le) (rate(${selector}[${rangeSeconds}s])))`;
}

/**
 * The bucket counts added between two samples: the latest at or before `at` less the latest at or
 * before `at - offsetMs` (the window's start). A difference of raw counters rather than increase()
 * because increase() extrapolates each bucket to the range's edges and drops the first sample of a
 * series born inside the window (a fresh control plane's first calls). The `or … * 0` stands in for
 * a series that did not exist yet at the start. A control-plane restart inside the window makes
 * the difference negative, and the quantile meaningless: snapshotWholeWindow then records none.
 */
export function windowBucketsQuery(metric: string, fn: string, offsetMs: number): string {
  const selector = `${metric}_bucket{function=${JSON.stringify(fn)}}`;
  const now = `sum by (le) (${selector})`;
  return `${now} - (sum by (le) (${selector} offset ${offsetMs}ms) or ${now} * 0)`;
}

export function windowQuantileQuery(metric: string, quantile: number, fn: string, offsetMs: number): string {
  return `histogram_quantile(${quantile}, ${windowBucketsQuery(metric, fn, offsetMs)})`;
}

export function windowCountQuery(metric: string, fn: string, offsetMs: number): string {
  const selector = `${metric}_count{function=${JSON.stringify(fn)}}`;
  return `sum(${selector}) - (sum(${selector} offset ${offsetMs}ms) or vector(0))`;
}

/** ~100 points per window, at least the scrape-friendly 1 s. */
export function stepFor(window: TestWindow): number {
  const seconds = (Date.parse(window.end) - Date.parse(window.start)) / 1000;
  return Math.max(1, Math.ceil(seconds / 100));
}

export class PrometheusError extends Error {
  override name = 'PrometheusError';
}

async function getJson(baseUrl: string, path: string, params: Record<string, string>, query: string): Promise<unknown> {
  // Relative to the base so a Prometheus behind a path prefix (PROM_URL=http://host/prometheus) works.
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.search = new URLSearchParams(params).toString();
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
  } catch (error) {
    throw new PrometheusError(`cannot reach Prometheus at ${baseUrl} (${(error as Error).message})`);
  }
  const body = (await res.body.json().catch(() => undefined)) as { status?: string; error?: string; data?: unknown } | undefined;
  if (res.statusCode !== 200 || body?.status !== 'success') {
    throw new PrometheusError(`Prometheus ${url.pathname} answered ${res.statusCode}: ${body?.error ?? 'no JSON body'} (query: ${query})`);
  }
  return body.data;
}

/** One instant query; the value of its first sample, or undefined when the result is empty. */
async function queryInstant(baseUrl: string, query: string, time?: number): Promise<number | undefined> {
  const params: Record<string, string> = { query };
  if (time !== undefined) params.time = String(time);
  const data = (await getJson(baseUrl, 'api/v1/query', params, query)) as { result?: { value?: [number, string] }[] } | undefined;
  const value = data?.result?.[0]?.value;
  return value === undefined ? undefined : Number(value[1]);
}

async function queryRange(baseUrl: string, query: string, start: number, end: number, step: number): Promise<Point[]> {
  const params = { query, start: String(start), end: String(end), step: String(step) };
  const data = (await getJson(baseUrl, 'api/v1/query_range', params, query)) as { result?: { values?: [number, string][] }[] } | undefined;
  const values = data?.result?.[0]?.values ?? [];
  return values.map(([t, v]): Point => [t, Number(v) * 1000]).filter(([, v]) => Number.isFinite(v));
}

export interface SnapshotOptions {
  /** How long to wait for Prometheus to ingest a scrape taken after the window's end (default 20 s). */
  ingestTimeoutMs?: number;
  /** Pause between two looks at the latest ingested scrape (default 250 ms). */
  pollMs?: number;
}

/**
 * Unix seconds to read the window's end counts at: once every scraped instance's latest sample of
 * `fn`'s e2e histogram is at or after `endSeconds` (waited for up to the timeout), the latest of
 * them, so that the samples read there all are. Undefined when that did not happen in time, or
 * when the series does not exist at all (waiting would change nothing).
 */
export async function awaitScrapeAfter(
  baseUrl: string,
  fn: string,
  endSeconds: number,
  options: SnapshotOptions = {},
): Promise<number | undefined> {
  const stamps = `timestamp(${METRICS.e2eLatency}_count{function=${JSON.stringify(fn)}})`;
  const deadline = Date.now() + (options.ingestTimeoutMs ?? 20_000);
  for (;;) {
    const oldest = await queryInstant(baseUrl, `min(${stamps})`);
    if (oldest === undefined) return undefined;
    if (oldest >= endSeconds) return (await queryInstant(baseUrl, `max(${stamps})`)) ?? oldest;
    if (Date.now() >= deadline) return undefined;
    await delay(options.pollMs ?? 250);
  }
}

/** p50/p95/p99 and counts of the three histograms over the whole window (see windowBucketsQuery). */
export async function snapshotWholeWindow(prometheusUrl: string, window: TestWindow, options: SnapshotOptions = {}): Promise<WholeWindow> {
  const startSeconds = Date.parse(window.start) / 1000;
  const endSeconds = Date.parse(window.end) / 1000;
  const scrapedAt = await awaitScrapeAfter(prometheusUrl, window.function, endSeconds, options);
  const at = scrapedAt ?? endSeconds;
  // Whole milliseconds, rounded up: the earlier sample is then never one taken after the start.
  const offsetMs = Math.ceil((at - startSeconds) * 1000);
  const percentiles = {} as WholeWindow['percentiles'];
  const counts = {} as WholeWindow['counts'];
  for (const [key, metric] of Object.entries(SNAPSHOT_METRICS) as [SnapshotMetric, string][]) {
    percentiles[key] = { p50: null, p95: null, p99: null };
    const count = await queryInstant(prometheusUrl, windowCountQuery(metric, window.function, offsetMs), at);
    // Fewer observations at the end than at the start: the control plane restarted in between.
    if (count !== undefined && count < 0) {
      counts[key] = null;
      continue;
    }
    counts[key] = count !== undefined && Number.isFinite(count) ? count : null;
    for (const q of SNAPSHOT_QUANTILES) {
      const value = await queryInstant(prometheusUrl, windowQuantileQuery(metric, q, window.function, offsetMs), at);
      percentiles[key][`p${Math.round(q * 100)}` as QuantileKey] = value !== undefined && Number.isFinite(value) ? value * 1000 : null;
    }
  }
  return { at: new Date(at * 1000).toISOString(), complete: scrapedAt !== undefined, percentiles, counts };
}

/** Latency, queue-wait and e2e percentiles of one function over its test window: as series, and over the whole window. */
export async function snapshotWindow(prometheusUrl: string, window: TestWindow, options: SnapshotOptions = {}): Promise<WindowSnapshot> {
  const step = stepFor(window);
  const start = Math.floor(Date.parse(window.start) / 1000);
  const end = Math.ceil(Date.parse(window.end) / 1000);
  // rate() needs at least two scrapes inside its range; 4 steps (≥ 30 s) keeps the curve smooth.
  const range = Math.max(30, step * 4);
  const series = {} as WindowSnapshot['series'];
  for (const [key, metric] of Object.entries(SNAPSHOT_METRICS) as [SnapshotMetric, string][]) {
    series[key] = {};
    for (const q of SNAPSHOT_QUANTILES) {
      series[key][`p${Math.round(q * 100)}`] = await queryRange(
        prometheusUrl,
        quantileQuery(metric, q, window.function, range),
        start,
        end,
        step,
      );
    }
  }
  const whole = await snapshotWholeWindow(prometheusUrl, window, options);
  return { ...window, stepSeconds: step, series, whole };
}

/** Add (or replace) a window's snapshot in `<results>/prometheus.json`. */
export function saveSnapshot(resultsDir: string, prometheusUrl: string, snapshot: WindowSnapshot): void {
  const path = join(resultsDir, PROMETHEUS_FILE);
  let file: PrometheusFile = { prometheusUrl, windows: [] };
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as PrometheusFile;
    } catch {
      // A torn file from an interrupted run is replaced rather than blocking this one.
    }
  }
  const windows = file.windows.filter((w) => w.function !== snapshot.function);
  writeFileSync(path, `${JSON.stringify({ prometheusUrl, windows: [...windows, snapshot] }, null, 2)}\n`);
}

/** Is a Prometheus answering at this URL? (`/-/ready`, short timeout.) */
export async function prometheusReady(prometheusUrl: string): Promise<boolean> {
  try {
    const res = await request(new URL('/-/ready', prometheusUrl), { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}
