import { build, type Histogram } from 'hdr-histogram-js';
import type { RunInfo, Summary } from './summary.js';
import { SeriesRecorder, type SeriesFile, type SeriesSample } from './timeseries.js';

export interface RunStatsOptions {
  /** Milliseconds on a monotonic clock (performance.now by default); tests inject their own. */
  now?: () => number;
}

/**
 * Collects one run's samples. Latencies go into an HDR histogram in microseconds (3 significant
 * digits: percentiles within 0.1%, constant memory); min, max and mean are kept exactly. Every
 * event also lands in its second since the start (the time series, `<fn>.series.json`).
 */
export class RunStats {
  private readonly now: () => number;
  /** Clock reading of t = 0: construction, or the engine's markStart(). */
  private origin: number;
  private originWall = new Date();
  private readonly series = new SeriesRecorder();
  private readonly histogram: Histogram = build({
    bitBucketSize: 'packed',
    autoResize: true,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  private sumMs = 0;
  private minMs = Number.POSITIVE_INFINITY;
  private maxMs = 0;
  requests = 0;
  failed = 0;
  iterations = 0;
  /** Arrival-rate runs: iterations due while every VU was busy, never sent (k6's dropped_iterations). */
  dropped = 0;
  maxVus = 0;
  activeVus = 0;
  readonly checks = new Map<string, { passes: number; fails: number }>();

  constructor(options: RunStatsOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.origin = this.now();
  }

  /** The run starts now (t = 0 of the series), if it starts later than this object was made. */
  markStart(wall: Date = new Date()): void {
    this.origin = this.now();
    this.originWall = wall;
  }

  private elapsedSeconds(): number {
    return (this.now() - this.origin) / 1000;
  }

  /** One HTTP exchange (or, in async mode, one enqueue-to-completion round trip). */
  recordRequest(durationMs: number, failed: boolean): void {
    this.requests += 1;
    if (failed) this.failed += 1;
    this.sumMs += durationMs;
    this.minMs = Math.min(this.minMs, durationMs);
    this.maxMs = Math.max(this.maxMs, durationMs);
    this.histogram.recordValue(Math.max(1, Math.round(durationMs * 1000)));
    this.series.request(this.elapsedSeconds(), durationMs, failed);
  }

  recordCheck(name: string, passed: boolean): void {
    const entry = this.checks.get(name) ?? { passes: 0, fails: 0 };
    if (passed) entry.passes += 1;
    else entry.fails += 1;
    this.checks.set(name, entry);
  }

  recordIteration(): void {
    this.iterations += 1;
  }

  /** An iteration the arrival rate called for but no VU was free to run. */
  recordDropped(): void {
    this.dropped += 1;
    this.series.dropped(this.elapsedSeconds());
  }

  /** The engine reports each change in the number of running VUs. */
  setActiveVus(count: number): void {
    this.activeVus = count;
    this.maxVus = Math.max(this.maxVus, count);
    this.series.vus(this.elapsedSeconds(), count);
  }

  /** One sample per second from the start until now (the run's end when called after it). */
  seriesSamples(): SeriesSample[] {
    return this.series.samples(this.elapsedSeconds());
  }

  /** The series file of this run (`writeSeries` puts it beside the summary). */
  toSeries(fn: string): SeriesFile {
    return { schemaVersion: 1, function: fn, engine: 'builtin', start: this.originWall.toISOString(), samples: this.seriesSamples() };
  }

  /** Latency at a percentile (0–100) in milliseconds; 0 when nothing was recorded. */
  percentileMs(percentile: number): number {
    if (this.requests === 0) return 0;
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  failureRate(): number {
    return this.requests === 0 ? 0 : this.failed / this.requests;
  }

  toSummary(elapsedMs: number, info: RunInfo): Summary {
    const seconds = Math.max(elapsedMs, 1) / 1000;
    const empty = this.requests === 0;
    let checkPasses = 0;
    let checkFails = 0;
    const rootChecks: Record<string, { name: string; passes: number; fails: number }> = {};
    for (const [name, { passes, fails }] of this.checks) {
      checkPasses += passes;
      checkFails += fails;
      rootChecks[name] = { name, passes, fails };
    }
    return {
      metrics: {
        http_reqs: { count: this.requests, rate: this.requests / seconds },
        http_req_duration: {
          avg: empty ? 0 : this.sumMs / this.requests,
          min: empty ? 0 : this.minMs,
          med: this.percentileMs(50),
          max: this.maxMs,
          'p(90)': this.percentileMs(90),
          'p(95)': this.percentileMs(95),
          'p(99)': this.percentileMs(99),
        },
        http_req_failed: {
          passes: this.failed,
          fails: this.requests - this.failed,
          value: this.failureRate(),
        },
        iterations: { count: this.iterations, rate: this.iterations / seconds },
        checks: {
          passes: checkPasses,
          fails: checkFails,
          value: checkPasses + checkFails === 0 ? 0 : checkPasses / (checkPasses + checkFails),
        },
        vus_max: { value: this.maxVus },
        ...(this.dropped > 0 ? { dropped_iterations: { count: this.dropped, rate: this.dropped / seconds } } : {}),
      },
      root_group: { checks: rootChecks },
      nanofaas: info,
    };
  }
}
