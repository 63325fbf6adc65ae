/**
 * Prometheus metrics of docs/design.md §6.1, with the names from contracts/metrics.ts. The
 * per-function counters and histograms of the hot path are metric-families.ts's (a function's
 * series found once, no label hashing per call); gauges are filled at scrape time from live
 * state rather than updated on every request.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, METRICS } from './contracts/index.js';
import { CounterFamily, HistogramFamily } from './metric-families.js';

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
    const counter = (name: string, help: string) => new CounterFamily(name, help, this.registry);
    const histogram = (name: string, help: string) => new HistogramFamily(name, help, LATENCY_BUCKETS_SECONDS, this.registry);
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
      const c = this.counters;
      const h = this.histograms;
      child = {
        enqueue: c.enqueue.forFunction(name),
        dispatch: c.dispatch.forFunction(name),
        success: c.success.forFunction(name),
        error: c.error.forFunction(name),
        retry: c.retry.forFunction(name),
        timeout: c.timeout.forFunction(name),
        queueRejected: c.queueRejected.forFunction(name),
        coldStart: c.coldStart.forFunction(name),
        latency: h.latency.forFunction(name),
        queueWait: h.queueWait.forFunction(name),
        e2eLatency: h.e2eLatency.forFunction(name),
      };
      this.children.set(name, child);
    }
    return child;
  }
}
