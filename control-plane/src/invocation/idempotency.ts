/**
 * Idempotency keys: the same function + key within the TTL maps to the same execution. Entries
 * hold the execution itself, so a duplicate still gets its result even if the execution store
 * evicted the record under memory pressure. Bounded like the execution store.
 */
import type { Execution } from './executions.js';

interface Entry {
  execution: Execution;
  expiresAt: number;
}

export class IdempotencyIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(ttlMs, 10_000));
    this.sweeper.unref();
  }

  private static key(functionName: string, key: string): string {
    return `${functionName}\u0000${key}`;
  }

  find(functionName: string, key: string): Execution | undefined {
    const entry = this.entries.get(IdempotencyIndex.key(functionName, key));
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(IdempotencyIndex.key(functionName, key));
      return undefined;
    }
    return entry.execution;
  }

  remember(functionName: string, key: string, execution: Execution): void {
    const k = IdempotencyIndex.key(functionName, key);
    this.entries.delete(k);
    this.entries.set(k, { execution, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** Forget every key of a function (it was deleted; a re-registered one starts clean). */
  forgetFunction(functionName: string): void {
    const prefix = `${functionName}\u0000`;
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  sweep(): void {
    const now = this.now();
    // Insertion order equals expiry order because the TTL is constant.
    for (const [k, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(k);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
