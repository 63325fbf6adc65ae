/**
 * Feeds a load-driven scaler (WorkloadBackend.observeLoad) with every function's queue depth and
 * in-flight count. It samples on a modest timer instead of reporting per request, so the invoke
 * hot path pays nothing, and the scaler's own cool-downs are far coarser than the sampling period.
 * Every sample is sent, changed or not: the scaler keeps only the latest one per function, and a
 * re-registered function (which the backend forgot) gets its load again within one period.
 */

export interface LoadSample {
  queueDepth: number;
  inFlight: number;
}

export interface LoadReporterOptions {
  /** Visits every function's current load (Invoker.forEachLoad). */
  source(visit: (name: string, queueDepth: number, inFlight: number) => void): void;
  /** Where the samples go (the backend's observeLoad). */
  observe(name: string, load: LoadSample): void;
  intervalMs: number;
  /** A throwing observer is reported here and does not stop the other functions' samples. */
  onError(name: string, err: unknown): void;
}

export interface LoadReporter {
  /** Sample and send now (the timer calls this). */
  report(): void;
  stop(): void;
}

export const DEFAULT_LOAD_REPORT_INTERVAL_MS = 1000;

export function startLoadReporter(o: LoadReporterOptions): LoadReporter {
  if (!Number.isFinite(o.intervalMs) || o.intervalMs <= 0) {
    throw new RangeError(`load report interval must be a positive number of ms, got ${o.intervalMs}`);
  }
  const report = (): void => {
    o.source((name, queueDepth, inFlight) => {
      try {
        o.observe(name, { queueDepth, inFlight });
      } catch (err) {
        o.onError(name, err);
      }
    });
  };
  const timer = setInterval(report, o.intervalMs);
  // Never keeps the process alive on its own; close() stops it explicitly.
  timer.unref();
  return {
    report,
    stop() {
      clearInterval(timer);
    },
  };
}
