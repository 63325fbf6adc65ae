import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS, METRICS } from '../../control-plane/src/contracts/metrics.js';
import { Metrics } from '../../control-plane/src/metrics.js';

describe('control-plane histogram buckets (docs/design.md §6.1)', () => {
  it('are sorted, from sub-millisecond to 30 s, fine below 10 ms, and ~two dozen', () => {
    const ms = LATENCY_BUCKETS_SECONDS.map((s) => s * 1000);
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);
    expect(ms[0]).toBeLessThan(0.25);
    expect(ms.at(-1)).toBe(30_000);
    // Below 10 ms: no bucket wider than 2.5 ms, and from 0.5 ms on no step over 50 %.
    for (let i = 1; i < ms.length && ms[i]! <= 10; i++) {
      expect(ms[i]! - ms[i - 1]!).toBeLessThanOrEqual(2.5);
      if (ms[i - 1]! >= 0.5) expect(ms[i]! / ms[i - 1]!).toBeLessThanOrEqual(1.5);
    }
    expect(LATENCY_BUCKETS_SECONDS.length).toBeGreaterThanOrEqual(20);
    expect(LATENCY_BUCKETS_SECONDS.length).toBeLessThanOrEqual(26);
  });

  it('are the bounds all three histograms expose, and an observation lands in the right one', async () => {
    const metrics = new Metrics();
    const fn = metrics.forFunction('f');
    fn.latency.observe(0.0042);
    fn.queueWait.observe(0.00003);
    fn.e2eLatency.observe(45);
    const text = await metrics.registry.metrics();
    const expected = [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'];
    for (const name of [METRICS.latency, METRICS.queueWait, METRICS.e2eLatency]) {
      const les = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)",function="f"\\}`, 'gm'))].map((m) => m[1]);
      expect(les, name).toEqual(expected);
    }
    const count = (name: string, le: string) =>
      Number(new RegExp(`^${name}_bucket\\{le="${le}",function="f"\\} (\\d+)`, 'm').exec(text)?.[1]);
    expect(count(METRICS.latency, '0.004')).toBe(0);
    expect(count(METRICS.latency, '0.005')).toBe(1);
    expect(count(METRICS.queueWait, '0.00005')).toBe(1);
    // Over the 30 s top: only +Inf counts it.
    expect(count(METRICS.e2eLatency, '30')).toBe(0);
    expect(count(METRICS.e2eLatency, '\\+Inf')).toBe(1);
  });
});
