import { describe, expect, it } from 'vitest';
import { METRICS } from '@nanofaas/control-plane/contracts';
import { expandMacros, loadDashboard, metricNames } from './dashboard-queries.js';

const dashboard = loadDashboard();
const known = new Set<string>(Object.values(METRICS));

describe('grafana dashboard nanofaas-functions', () => {
  it('has its fixed identity: uid, 5 s refresh, last 15 minutes', () => {
    expect(dashboard.uid).toBe('nanofaas-functions');
    expect(dashboard.refresh).toBe('5s');
    expect(dashboard.time).toEqual({ from: 'now-15m', to: 'now' });
  });

  it('has its seven panels, in order, each with at least one query', () => {
    expect(dashboard.panels.map((p) => p.title)).toEqual([
      'Request rate',
      'Error & timeout rate',
      'Latency p50 / p95 / p99',
      'Queue depth & in-flight',
      'Total invocations',
      'Dispatch rate',
      'Retry rate',
    ]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(7);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    expect(dashboard.panels.find((p) => p.title === 'Total invocations')?.type).toBe('stat');
  });

  it('uses only metric names declared in control-plane/src/contracts/metrics.ts', () => {
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !known.has(name))).toEqual([]);
  });

  it('covers the core signals: enqueue vs success, errors/timeouts/rejections, p50/p95/p99 of both latency histograms', () => {
    const exprs = (title: string) => dashboard.panels.find((p) => p.title === title)?.targets.map((t) => t.expr) ?? [];
    expect(exprs('Request rate').flatMap(metricNames)).toEqual([METRICS.enqueue, METRICS.success]);
    expect(exprs('Error & timeout rate').flatMap(metricNames)).toEqual([METRICS.error, METRICS.timeout, METRICS.queueRejected]);
    const latency = exprs('Latency p50 / p95 / p99').join('\n');
    for (const q of ['0.5', '0.95', '0.99'])
      expect(latency).toContain(`histogram_quantile(${q}, sum by (le, function) (rate(${METRICS.latency}_bucket`);
    expect(latency).toContain(`${METRICS.e2eLatency}_bucket`);
    expect(exprs('Queue depth & in-flight').flatMap(metricNames)).toEqual([METRICS.queueDepth, METRICS.inFlight]);
    expect(exprs('Dispatch rate').flatMap(metricNames)).toEqual([METRICS.dispatch]);
    expect(exprs('Retry rate').flatMap(metricNames)).toEqual([METRICS.retry]);
  });

  it('leaves no Grafana macro behind once expanded', () => {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) expect(expandMacros(target.expr)).not.toContain('$__');
    }
  });
});
