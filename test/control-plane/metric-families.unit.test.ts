/**
 * metric-families.ts against prom-client itself: the same observations through prom-client's
 * labelled Counter and Histogram and through the hot-path families give the same exposition text,
 * byte for byte (bucket edges, +Inf, _sum/_count, label order and escaping, untouched series absent).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS } from '../../control-plane/src/contracts/metrics.js';
import { CounterFamily, HistogramFamily } from '../../control-plane/src/metric-families.js';

describe('hot-path metric families', () => {
  it('expose exactly what prom-client exposes for the same observations', async () => {
    const reference = new Registry();
    const ours = new Registry();
    const refHistogram = new Histogram({
      name: 'h_seconds',
      help: 'H help',
      labelNames: ['function'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers: [reference],
    });
    const refCounter = new Counter({ name: 'c_total', help: 'C help', labelNames: ['function'], registers: [reference] });
    const histogram = new HistogramFamily('h_seconds', 'H help', LATENCY_BUCKETS_SECONDS, ours);
    const counter = new CounterFamily('c_total', 'C help', ours);
    // On a bound, between bounds, below the first, past the last, zero.
    const values = [0, 0.00005, 0.00004, 0.0013, 0.0025, 0.7, 31, 5, 2.5, 1e-9, 0.0101];
    for (const fn of ['word-stats', 'odd"name\\x']) {
      const ref = refHistogram.labels({ function: fn });
      const cell = histogram.forFunction(fn);
      for (const v of values) {
        ref.observe(v);
        cell.observe(v);
      }
      refCounter.labels({ function: fn }).inc();
      counter.forFunction(fn).inc();
    }
    // Resolved but never used: no series, as with prom-client.
    histogram.forFunction('idle');
    counter.forFunction('idle');
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.00005",function="word-stats"} 4');
    expect(text).toContain('h_seconds_bucket{le="+Inf",function="word-stats"} 11');
    expect(text).not.toContain('idle');
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const cell = new HistogramFamily('x_seconds', 'x', [0.1, 1], new Registry()).forFunction('f');
    expect(() => cell.observe(Number.NaN)).toThrow(TypeError);
    expect(() => cell.observe(Number.POSITIVE_INFINITY)).toThrow(/not a valid number/);
  });
});
