import type { PrometheusFile } from '../loadtest/prometheus.js';
import type { SeriesFile, SeriesSample } from '../loadtest/timeseries.js';
import type { TimeSeriesLine } from './charts.js';
import { AGREEMENT_METRIC } from './prometheus-agreement.js';

/**
 * The lines of the over-time charts: one per function, x in seconds from that function's start.
 * A long run is binned so no line has more than MAX_POINTS points (an SVG path stays small).
 */
export const MAX_POINTS = 600;

export type OverTimeMetric = 'throughput' | 'p95' | 'failures' | 'vus' | 'dropped';

/** Seconds per bin for a series of n samples. */
export const binSeconds = (n: number): number => Math.max(1, Math.ceil(n / MAX_POINTS));

function binned(
  samples: readonly SeriesSample[],
  bin: number,
  value: (group: readonly SeriesSample[]) => number | null,
): [number, number | null][] {
  const out: [number, number | null][] = [];
  for (let i = 0; i < samples.length; i += bin) {
    const group = samples.slice(i, i + bin);
    out.push([samples[i]?.t ?? i, value(group)]);
  }
  return out;
}

const sum = (group: readonly SeriesSample[], pick: (s: SeriesSample) => number): number => group.reduce((n, s) => n + pick(s), 0);

/** Per metric: what a bin of seconds reads as (a rate for counts, the worst second for latency, the peak for VUs). */
const READ: Record<OverTimeMetric, (group: readonly SeriesSample[]) => number | null> = {
  throughput: (g) => sum(g, (s) => s.requests) / g.length,
  failures: (g) => sum(g, (s) => s.failed) / g.length,
  dropped: (g) => sum(g, (s) => s.dropped) / g.length,
  vus: (g) => Math.max(...g.map((s) => s.vus)),
  p95: (g) => {
    const values = g.map((s) => s.p95).filter((v): v is number => v !== null);
    return values.length === 0 ? null : Math.max(...values);
  },
};

export function seriesLines(series: readonly SeriesFile[], metric: OverTimeMetric, colorOf: (fn: string) => string): TimeSeriesLine[] {
  return series.map((file) => ({
    name: file.function,
    color: colorOf(file.function),
    points: binned(file.samples, binSeconds(file.samples.length), READ[metric]),
  }));
}

/** The widest binning any line used, for the chart's subtitle ("per 6 s"). */
export const widestBin = (series: readonly SeriesFile[]): number => Math.max(1, ...series.map((f) => binSeconds(f.samples.length)));

export const anyOf = (series: readonly SeriesFile[], pick: (s: SeriesSample) => number): boolean =>
  series.some((file) => file.samples.some((s) => pick(s) > 0));

/**
 * The control plane's p95 over each function's test window (the same histogram the agreement
 * check uses), x relative to the window's start.
 */
export function serverP95Lines(prometheus: PrometheusFile | undefined, colorOf: (fn: string) => string): TimeSeriesLine[] {
  if (prometheus === undefined) return [];
  return prometheus.windows
    .map((window) => {
      const start = Date.parse(window.start) / 1000;
      const points = window.series[AGREEMENT_METRIC]?.p95 ?? [];
      return {
        name: window.function,
        color: colorOf(window.function),
        points: points.map(([t, v]): [number, number | null] => [Math.max(0, t - start), v]),
      };
    })
    .filter((line) => line.points.length > 0);
}
