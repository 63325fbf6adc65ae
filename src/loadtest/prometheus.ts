import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export interface WindowSnapshot extends TestWindow {
  stepSeconds: number;
  /** series[metric]["p50" | "p95" | "p99"] */
  series: Record<SnapshotMetric, Record<string, Point[]>>;
}

export interface PrometheusFile {
  prometheusUrl: string;
  windows: WindowSnapshot[];
}

export function quantileQuery(metric: string, quantile: number, fn: string, rangeSeconds: number): string {
  const selector = `${metric}_bucket{function=${JSON.stringify(fn)}}`;
  return `histogram_quantile(${quantile}, sum by (le) (rate(${selector}[${rangeSeconds}s])))`;
}

/** ~100 points per window, at least the scrape-friendly 1 s. */
export function stepFor(window: TestWindow): number {
  const seconds = (Date.parse(window.end) - Date.parse(window.start)) / 1000;
  return Math.max(1, Math.ceil(seconds / 100));
}

export class PrometheusError extends Error {
  override name = 'PrometheusError';
}

async function queryRange(baseUrl: string, query: string, start: number, end: number, step: number): Promise<Point[]> {
  // Relative to the base so a Prometheus behind a path prefix (PROM_URL=http://host/prometheus) works.
  const url = new URL('api/v1/query_range', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.search = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) }).toString();
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
  } catch (error) {
    throw new PrometheusError(`cannot reach Prometheus at ${baseUrl} (${(error as Error).message})`);
  }
  const body = (await res.body.json().catch(() => undefined)) as
    | { status?: string; error?: string; data?: { result?: { values?: [number, string][] }[] } }
    | undefined;
  if (res.statusCode !== 200 || body?.status !== 'success') {
    throw new PrometheusError(`Prometheus ${url.pathname} answered ${res.statusCode}: ${body?.error ?? 'no JSON body'} (query: ${query})`);
  }
  const values = body.data?.result?.[0]?.values ?? [];
  return values.map(([t, v]): Point => [t, Number(v) * 1000]).filter(([, v]) => Number.isFinite(v));
}

/** Latency, queue-wait and e2e percentiles of one function over its test window. */
export async function snapshotWindow(prometheusUrl: string, window: TestWindow): Promise<WindowSnapshot> {
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
  return { ...window, stepSeconds: step, series };
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
