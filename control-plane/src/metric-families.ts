/**
 * Per-function counters and histograms for the invocation hot path, exposed through prom-client's
 * Registry in its own text format. prom-client's label children are not resolved once: each
 * `inc()`/`observe()` copies the labels, validates them, hashes them into a string and looks the
 * series up, and a histogram keys its buckets by the bound turned into a string: 2–3 % of the
 * control plane's CPU on the sync hot path, for the three histograms and four counters a call
 * touches (bench:cp-profile, BENCHMARKS.md). Here a function's series is a plain object found
 * once per function, and a bucket an array slot.
 *
 * The exposition matches prom-client's: a series appears once it has been touched, histogram
 * buckets are cumulative with `le` first, then `+Inf`, `_sum` and `_count`.
 */
import type { Registry } from 'prom-client';

/** What prom-client's Registry reads from a metric (`getMetricsAsString` / `getMetricsAsJSON`). */
interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

export interface CounterCell {
  inc(): void;
}

export interface HistogramCell {
  observe(seconds: number): void;
}

class CounterSeries implements CounterCell {
  value = 0;
  inc(): void {
    this.value++;
  }
}

class HistogramSeries implements HistogramCell {
  /** Per bucket, not cumulative; one slot past the last bound for +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A metric family for prom-client's Registry: a series per function, found once. */
abstract class Family<S> {
  abstract readonly type: Exported['type'];
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected abstract create(): S;

  /** The exported samples; a series nobody touched yet has none, as with prom-client. */
  protected abstract values(): ExportedValue[];

  /** The function's series (its counter or histogram cell). */
  forFunction(name: string): S {
    let series = this.series.get(name);
    if (!series) {
      series = this.create();
      this.series.set(name, series);
    }
    return series;
  }

  get(): Exported {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';

  protected create(): CounterSeries {
    return new CounterSeries();
  }

  protected values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const [fn, s] of this.series) if (s.value > 0) values.push({ value: s.value, labels: { function: fn } });
    return values;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, registry);
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  protected values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [fn, s] of this.series) {
      if (s.count === 0) continue;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ value: cumulative, labels: { le, function: fn }, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: '+Inf', function: fn }, metricName: bucket });
      values.push({ value: s.sum, labels: { function: fn }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { function: fn }, metricName: `${this.name}_count` });
    }
    return values;
  }
}
