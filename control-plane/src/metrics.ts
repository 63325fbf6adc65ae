/**
 * Prometheus metrics of docs/design.md §6.1, with the names from contracts/metrics.ts. Per-function
 * label children are resolved once and cached so the hot path does no label hashing; gauges are
 * filled at scrape time from live state rather than updated on every request.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, METRICS } from './contracts/index.js';

export interface FunctionGaugeSource {
  forEachFunction(visit: (name: string, queueDepth: number, inFlight: number, replicas: number) => void): void;
}

export interface FunctionMetrics {
  enqueue: { inc(): void };
  dispatch: { inc(): void };
  success: { inc(): void };
  error: { inc(): void };
  retry: { inc(): void };
  timeout: { inc(): void };
  queueRejected: { inc(): void };
  coldStart: { inc(): void };
  latency: { observe(seconds: number): void };
  queueWait: { observe(seconds: number): void };
  e2eLatency: { observe(seconds: number): void };
}

export class Metrics {
  readonly registry = new Registry();
  private readonly children = new Map<string, FunctionMetrics>();
  private readonly counters;
  private readonly histograms;
  private gaugeSource: FunctionGaugeSource | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['function'], registers: [this.registry] });
    const histogram = (name: string, help: string) =>
      new Histogram({ name, help, labelNames: ['function'], buckets: [...LATENCY_BUCKETS_SECONDS], registers: [this.registry] });
    this.counters = {
      enqueue: counter(METRICS.enqueue, 'Accepted invocations (sync and async)'),
      dispatch: counter(METRICS.dispatch, 'Attempts sent to a runtime'),
      success: counter(METRICS.success, 'Executions that ended in success'),
      error: counter(METRICS.error, 'Executions that ended in error'),
      retry: counter(METRICS.retry, 'Attempts retried after a failure'),
      timeout: counter(METRICS.timeout, 'Executions that ended in timeout'),
      queueRejected: counter(METRICS.queueRejected, 'Invocations refused by admission control (429)'),
      coldStart: counter(METRICS.coldStart, 'Attempts answered by a cold runtime'),
    };
    this.histograms = {
      latency: histogram(METRICS.latency, 'Runtime call duration per attempt (seconds)'),
      queueWait: histogram(METRICS.queueWait, 'Time between acceptance and first dispatch (seconds)'),
      e2eLatency: histogram(METRICS.e2eLatency, 'Time from acceptance to terminal state (seconds)'),
    };
    const self = this;
    const gauge = (name: string, help: string, pick: (d: number, f: number, r: number) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['function'],
        registers: [this.registry],
        collect() {
          this.reset();
          self.gaugeSource?.forEachFunction((fn, depth, inFlight, replicas) => this.set({ function: fn }, pick(depth, inFlight, replicas)));
        },
      });
    gauge(METRICS.queueDepth, 'Invocations waiting in the function queue', (d) => d);
    gauge(METRICS.inFlight, 'Invocations being executed', (_d, f) => f);
    gauge(METRICS.replicas, 'Ready replicas of the function', (_d, _f, r) => r);
  }

  setGaugeSource(source: FunctionGaugeSource): void {
    this.gaugeSource = source;
  }

  forFunction(name: string): FunctionMetrics {
    let child = this.children.get(name);
    if (!child) {
      const label = { function: name };
      const c = this.counters;
      const h = this.histograms;
      child = {
        enqueue: c.enqueue.labels(label),
        dispatch: c.dispatch.labels(label),
        success: c.success.labels(label),
        error: c.error.labels(label),
        retry: c.retry.labels(label),
        timeout: c.timeout.labels(label),
        queueRejected: c.queueRejected.labels(label),
        coldStart: c.coldStart.labels(label),
        latency: h.latency.labels(label),
        queueWait: h.queueWait.labels(label),
        e2eLatency: h.e2eLatency.labels(label),
      };
      this.children.set(name, child);
    }
    return child;
  }
}
