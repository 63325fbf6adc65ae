import { describe, expect, it } from 'vitest';
import type { WindowSnapshot } from '../../src/loadtest/prometheus.js';
import type { Summary } from '../../src/loadtest/summary.js';
import { AGREEMENT_TOLERANCE, prometheusAgreement } from '../../src/report/prometheus-agreement.js';

const summary = (med: number, p95: number): Summary => ({
  metrics: {
    http_reqs: { count: 100, rate: 10 },
    http_req_duration: { avg: med, min: 1, med, max: 50, 'p(90)': p95, 'p(95)': p95 },
    http_req_failed: { passes: 0, fails: 100 },
    iterations: { count: 100, rate: 10 },
  },
});

const window = { function: 'f', runtime: 'node', start: '2026-01-01T10:00:00.000Z', end: '2026-01-01T10:00:10.000Z' };
const none = { p50: null, p95: null, p99: null };
const snapshot = (e2e: { p50: number | null; p95: number | null }, latency = { p50: 1, p95: 2 }): WindowSnapshot => ({
  ...window,
  stepSeconds: 1,
  series: { latency: {}, queueWait: {}, e2e: {} },
  whole: {
    at: window.end,
    complete: true,
    percentiles: { latency: { ...latency, p99: null }, queueWait: none, e2e: { ...e2e, p99: null } },
    counts: { latency: 100, queueWait: 100, e2e: 100 },
  },
});

describe('prometheusAgreement', () => {
  it('sets the e2e whole-window figures beside the client med and p(95)', () => {
    expect(prometheusAgreement(summary(5, 10), snapshot({ p50: 4.5, p95: 11 }))).toEqual({
      metric: 'e2e',
      clientP50: 5,
      clientP95: 10,
      serverP50: 4.5,
      serverP95: 11,
      ratio50: 0.9,
      ratio95: 1.1,
      agrees: true,
      tolerance: AGREEMENT_TOLERANCE,
    });
  });

  it('disagrees beyond 25 % either way, at p50 or at p95', () => {
    expect(prometheusAgreement(summary(4, 10), snapshot({ p50: 5, p95: 10 }))?.agrees).toBe(true);
    expect(prometheusAgreement(summary(4, 10), snapshot({ p50: 5.01, p95: 10 }))?.agrees).toBe(false);
    expect(prometheusAgreement(summary(4, 10), snapshot({ p50: 4, p95: 7.4 }))?.agrees).toBe(false);
    // The issue's own example: a server p99-ish 45 ms against a client 21.9 ms.
    expect(prometheusAgreement(summary(10, 21.9), snapshot({ p50: 10, p95: 45 }))?.ratio95).toBeCloseTo(2.05, 2);
  });

  it('compares another histogram on request, with another tolerance', () => {
    const a = prometheusAgreement(summary(5, 10), snapshot({ p50: 5, p95: 10 }, { p50: 3, p95: 6 }), { metric: 'latency', tolerance: 0.5 });
    expect(a).toMatchObject({ metric: 'latency', serverP50: 3, ratio50: 0.6, ratio95: 0.6, agrees: true, tolerance: 0.5 });
  });

  it('has no ratio without a server figure, and then does not agree', () => {
    expect(prometheusAgreement(summary(5, 10), snapshot({ p50: null, p95: null }))).toMatchObject({
      serverP50: null,
      ratio50: null,
      ratio95: null,
      agrees: false,
    });
    expect(prometheusAgreement(summary(0, 0), snapshot({ p50: 1, p95: 1 }))?.ratio50).toBeNull();
  });

  it('is undefined without a snapshot, or for a file written before whole-window figures', () => {
    expect(prometheusAgreement(summary(5, 10), undefined)).toBeUndefined();
    const { whole: _old, ...old } = snapshot({ p50: 5, p95: 10 });
    expect(prometheusAgreement(summary(5, 10), old)).toBeUndefined();
  });
});
