/**
 * Idempotency keys: the same function + key within the TTL maps to the same execution. Entries
 * hold the execution itself, so a duplicate still gets its result even if the execution store
 * evicted the record under memory pressure. Bounded like the execution store.
 */
import type { Execution } from './executions.js';
import { Fifo } from './fifo.js';

interface Entry {
  key: string;
  execution: Execution;
  expiresAt: number;
}

export class IdempotencyIndex {
  private readonly entries = new Map<string, Entry>();
  /** Entries in expiry order (the TTL is constant); a FIFO so eviction never rescans a Map. */
  private readonly order = new Fifo<Entry>();
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
    const entry: Entry = { key: IdempotencyIndex.key(functionName, key), execution, expiresAt: this.now() + this.ttlMs };
    this.entries.set(entry.key, entry);
    this.order.push(entry);
    while (this.order.length > this.maxEntries) this.drop(this.order.shift()!);
  }

  /** Forget every key of a function (it was deleted; a re-registered one starts clean). */
  forgetFunction(functionName: string): void {
    const prefix = `${functionName}\u0000`;
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  sweep(): void {
    const now = this.now();
    for (let oldest = this.order.peek(); oldest && oldest.expiresAt <= now; oldest = this.order.peek()) {
      this.drop(this.order.shift()!);
    }
  }

  /** Remove an entry unless its key has since been remembered again (then a newer entry owns it). */
  private drop(entry: Entry): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
