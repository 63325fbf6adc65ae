/**
 * The restart loop of one replica, whatever a run is (a process: process/replica.ts; a container:
 * docker/replica.ts). A run that ends, whether it crashed after being ready or never got there, is
 * followed by another after a delay that doubles from initialDelayMs up to maxDelayMs, and falls
 * back to initialDelayMs once a run stayed ready for stableMs. Stopping is the signal's abort.
 */
import { abortableDelay } from './process/health-probe.js';

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A run that stayed ready this long resets the back-off to initialDelayMs. */
  stableMs: number;
}

/** A start attempt that did not reach /health 200. */
export interface StartFailure {
  /** One line: what happened, with the runtime's last words when it said anything. */
  reason: string;
  /** That attempt's own output (the last lines), without earlier runs'. */
  logTail: string[];
}

/** How a run ended. A `failed` run never became ready; its other fields (F) are the backend's. */
export type RunOutcome<F extends object = object> =
  | { kind: 'stopped' }
  | { kind: 'crashed'; readyForMs: number; exit: string }
  | ({ kind: 'failed'; reason: string } & F);

export interface SuperviseOptions<F extends object> {
  /** Aborted by the replica's stop(): no run starts after it, a pending delay ends at once. */
  signal: AbortSignal;
  restart: RestartPolicy;
  /** One run: start, wait for readiness, serve until it ends. A throw counts as a failed start. */
  run(): Promise<RunOutcome<F>>;
  /** Before every run but the first. */
  restarting?(): void;
  /** A run that had been ready ended; the next one starts in restartInMs. */
  crashed(exit: string, restartInMs: number): void;
  /** A run never became ready; without F's fields when run() threw. */
  failed(outcome: { kind: 'failed'; reason: string } & Partial<F>, restartInMs: number): Promise<void> | void;
}

/** Resolves once the signal is aborted and the current run (if any) has returned. */
export async function supervise<F extends object>(options: SuperviseOptions<F>): Promise<void> {
  const { signal, restart } = options;
  let delay = restart.initialDelayMs;
  let runs = 0;
  while (!signal.aborted) {
    if (runs++ > 0) options.restarting?.();
    let outcome: RunOutcome<Partial<F>>;
    try {
      outcome = await options.run();
    } catch (err) {
      outcome = { kind: 'failed', reason: (err as Error).message } as RunOutcome<Partial<F>>;
    }
    if (outcome.kind === 'stopped' || signal.aborted) return;
    if (outcome.kind === 'crashed') {
      if (outcome.readyForMs >= restart.stableMs) delay = restart.initialDelayMs;
      options.crashed(outcome.exit, delay);
    } else {
      await options.failed(outcome, delay);
    }
    try {
      await abortableDelay(delay, signal);
    } catch {
      return;
    }
    delay = Math.min(delay * 2, restart.maxDelayMs);
  }
}
