/**
 * Execution records. A record is kept for a TTL counted from when it *finished*, so a call that
 * ran long still has its result readable for the whole TTL, and the number of records is capped:
 * past the cap the oldest finished ones go first. Outputs are kept as the runtime's JSON text and
 * parsed only when someone reads them.
 */
import { randomFillSync } from 'node:crypto';
import type { ExecutionState, ExecutionStatus } from '../contracts/index.js';
import { FinishedRecords } from './finished-records.js';

export interface ExecutionErrorInfo {
  error: string;
  message: string;
  details?: unknown;
}

export type TerminalStatus = 'success' | 'error' | 'timeout';

export interface Outcome {
  status: TerminalStatus;
  /** HTTP status a sync caller gets: 200, the function's 4xx, 502, 504, 429. */
  httpStatus: number;
  /** The function's output as JSON text (success only). */
  outputJson?: string;
  error?: ExecutionErrorInfo;
  headers?: Record<string, string>;
}

export interface Execution {
  readonly id: string;
  readonly functionName: string;
  readonly createdAt: number;
  status: ExecutionState;
  attempts: number;
  startedAt: number;
  finishedAt: number;
  outcome: Outcome | undefined;
  /** The attempt whose result ended the execution (0 when it ended without one, e.g. deleted). */
  completedAttempt: number;
  listeners: ((execution: Execution) => void)[] | undefined;
  /** Finish order (1, 2, …) once ended; 0 while live. */
  finishSeq: number;
}

export interface ExecutionStoreOptions {
  ttlMs: number;
  maxRecords: number;
  now?: () => number;
}

/**
 * Live executions in a Map, finished ones in FinishedRecords (columns over a ring of `maxRecords`
 * slots). Each finished record has a sequence number; the kept ones are exactly those above
 * hiddenThrough(): the cap hides a record as its slot is reused, and the TTL sweep frees the
 * expired ones, oldest first, as it hides them.
 */
export class ExecutionStore {
  /** Executions not ended yet: few, so deleting from it is cheap. */
  private readonly liveRecords = new Map<string, Execution>();
  private readonly records: FinishedRecords;
  /** Finished records so far; the newest has this sequence number. */
  private finishedTotal = 0;
  /** Records with a sequence number up to this are past their TTL. */
  private expiredThrough = 0;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: ExecutionStoreOptions) {
    this.now = options.now ?? Date.now;
    this.records = new FinishedRecords(options.maxRecords);
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.ttlMs, 10_000));
    this.sweeper.unref();
  }

  /** Records that can be found: live ones and the visible finished ones. */
  get size(): number {
    return this.liveRecords.size + this.finishedTotal - this.hiddenThrough();
  }

  /** Executions created and not ended yet (queued, running or backing off), over every function. */
  get live(): number {
    return this.liveRecords.size;
  }

  /** `now`: the caller's reading of the store's clock, when it has one. */
  create(functionName: string, now = this.now()): Execution {
    const execution: Execution = {
      id: newExecutionId(),
      functionName,
      createdAt: now,
      status: 'queued',
      attempts: 0,
      startedAt: 0,
      finishedAt: 0,
      outcome: undefined,
      completedAttempt: 0,
      listeners: undefined,
      finishSeq: 0,
    };
    this.liveRecords.set(execution.id, execution);
    return execution;
  }

  get(id: string): Execution | undefined {
    return this.liveRecords.get(id) ?? this.records.get(id);
  }

  /** The one terminal transition. Returns false when the execution had already ended. */
  finish(execution: Execution, outcome: Outcome, attempt: number): boolean {
    if (execution.outcome) return false;
    this.liveRecords.delete(execution.id);
    execution.outcome = outcome;
    execution.status = outcome.status;
    execution.completedAttempt = attempt;
    execution.finishedAt = this.now();
    execution.finishSeq = ++this.finishedTotal;
    this.records.add(execution);
    const listeners = execution.listeners;
    if (listeners) {
      execution.listeners = undefined;
      for (const listener of listeners) listener(execution);
    }
    return true;
  }

  /** Calls `listener` once the execution has ended (at once if it already has). */
  whenDone(execution: Execution, listener: (execution: Execution) => void): void {
    if (execution.outcome) listener(execution);
    else (execution.listeners ??= []).push(listener);
  }

  /** Takes back a listener of whenDone (a waiter that gave up); drops the list once it is empty. */
  removeListener(execution: Execution, listener: (execution: Execution) => void): void {
    const listeners = execution.listeners;
    if (!listeners) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
    if (listeners.length === 0) execution.listeners = undefined;
  }

  sweep(): void {
    const cutoff = this.now() - this.options.ttlMs;
    let next = this.hiddenThrough() + 1;
    while (next <= this.finishedTotal && this.records.finishedAtOf(next)! <= cutoff) this.records.drop(next++);
    this.expiredThrough = Math.max(this.expiredThrough, next - 1);
  }

  /** Finished records with a sequence number up to this are gone (past the cap or the TTL). */
  private hiddenThrough(): number {
    return Math.max(this.expiredThrough, this.finishedTotal - this.options.maxRecords);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const entropy = Buffer.alloc(16 * 256);
let entropyUsed = entropy.length;
const idText = Buffer.alloc(36);
/** The creation number of the last id; it starts anywhere, so ids from two processes do not line up. */
let created = randomFillSync(new Uint32Array(1))[0]!;

/**
 * A new execution id: a UUID of version 8 (RFC 9562's layout for custom ids) whose first 32 bits
 * are a creation number (one more than the last id's, wrapping at 2^32) and whose other 90 bits
 * are random. Unguessable as a version 4 UUID is for all practical purposes; consecutive within a
 * process, which is what the finished records' index is built on (finished-records.ts). Written as one flat string: crypto.randomUUID()
 * answers a cons-string of about 20 pieces, each one more object for the garbage collector.
 * Entropy is drawn in batches like randomUUID's own cache.
 */
export function newExecutionId(): string {
  if (entropyUsed === entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  const o = entropyUsed;
  entropyUsed += 16;
  created = (created + 1) >>> 0;
  entropy.writeUInt32BE(created, o);
  entropy[o + 6] = (entropy[o + 6]! & 0x0f) | 0x80;
  entropy[o + 8] = (entropy[o + 8]! & 0x3f) | 0x80;
  let p = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) idText[p++] = 0x2d;
    const b = entropy[o + i]!;
    idText[p++] = HEX_DIGITS[b >> 4]!;
    idText[p++] = HEX_DIGITS[b & 15]!;
  }
  return idText.toString('latin1', 0, 36);
}

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

export function toExecutionStatus(e: Execution): ExecutionStatus {
  const status: ExecutionStatus = {
    executionId: e.id,
    functionName: e.functionName,
    status: e.status,
    attempts: e.attempts,
    createdAt: new Date(e.createdAt).toISOString(),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    error: e.outcome?.error ?? null,
  };
  if (e.outcome?.outputJson !== undefined) status.output = JSON.parse(e.outcome.outputJson) as unknown;
  return status;
}
