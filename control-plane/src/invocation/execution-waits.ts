/**
 * Long-polls on executions (GET /v1/executions/{id}?waitMs=N). A waiter rides on the execution's
 * own listener list, which exists only while someone waits, so the terminal transition pays one
 * null check when nobody does. Each waiter owns one timer and goes away on whichever comes first:
 * the execution ending, its waitMs elapsing, its client disconnecting, or shutdown.
 */
import type { Execution, ExecutionStore } from './executions.js';

export class ExecutionWaits {
  private readonly pending = new Set<() => void>();
  private closed = false;

  constructor(private readonly store: ExecutionStore) {}

  /** Long-polls in progress (diagnostics and the leak tests). */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Resolves with the execution once it has ended, or in its current state when `waitMs`
   * elapses, `signal` aborts or the waits are closed. Never rejects.
   */
  wait(execution: Execution, waitMs: number, signal?: AbortSignal): Promise<Execution> {
    if (execution.outcome || waitMs <= 0 || this.closed || signal?.aborted) return Promise.resolve(execution);
    return new Promise((resolve) => {
      const release = (): void => {
        if (!this.pending.delete(release)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        this.store.removeListener(execution, release);
        resolve(execution);
      };
      const timer = setTimeout(release, waitMs);
      signal?.addEventListener('abort', release, { once: true });
      this.pending.add(release);
      this.store.whenDone(execution, release);
    });
  }

  /** Shutdown: answer every waiter now with whatever state its execution has reached. */
  close(): void {
    this.closed = true;
    for (const release of [...this.pending]) release();
  }
}
