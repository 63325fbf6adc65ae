/**
 * The API side of async invocations in NATS mode: `:enqueue` publishes and answers once the
 * server has stored the invocation; `GET /v1/executions/{id}` (and its `waitMs` long-poll) reads
 * the shared records, or the stream for an execution still queued. Any replica answers either.
 *
 * Idempotency-Key: the KV key, when an earlier execution wrote it, answers at once. Otherwise the
 * publish carries `Nats-Msg-Id` = the hashed key, so a repeat within the stream's duplicate window
 * (from this replica or another) is dropped by the server, whose answer names the first message;
 * its execution id is read from that message, or from the KV key once it has been consumed (the
 * runner writes the key before it runs the first attempt, and acks only after the outcome).
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionStatus } from '../contracts/index.js';
import { type ExecutionRecord, keyToken, recordToStatus, type SharedExecutionStore } from './execution-kv.js';
import type { InvocationMessage, NatsWorkQueue, PublishResult, Registration } from './work-queue.js';

export interface EnqueueOptions {
  traceId: string | undefined;
  idempotencyKey: string | undefined;
}

interface PendingPublish {
  message: InvocationMessage;
  msgId: string | undefined;
  resolve: (result: PublishResult) => void;
  reject: (err: unknown) => void;
}

/** Stale message ids (a key forgotten within the duplicate window, e.g. past its TTL) a key can step over. */
const MAX_STALE_DUPLICATES = 8;

export class NatsAsyncFront {
  /** Publishes asked for during this turn of the event loop, sent together at its end. */
  private batch: PendingPublish[] = [];

  constructor(
    private readonly queue: NatsWorkQueue,
    private readonly store: SharedExecutionStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The execution an Idempotency-Key already maps to (written once its first attempt began). */
  known(registration: Registration, key: string): Promise<string | undefined> {
    return this.store.findKey(registration, key);
  }

  /**
   * Resolves with the execution id once the invocation is persisted (or the earlier one's id).
   * `registration`: the function and the generation this replica serves it as.
   * `keyChecked`: the caller has just asked known() and got nothing.
   */
  async enqueue(registration: Registration, body: string, opts: EnqueueOptions, keyChecked = false): Promise<string> {
    const key = opts.idempotencyKey;
    if (key !== undefined && !keyChecked) {
      const known = await this.store.findKey(registration, key);
      if (known !== undefined) return known;
    }
    const message: InvocationMessage = {
      executionId: randomUUID(),
      functionName: registration.name,
      generation: registration.generation,
      body,
      createdAt: this.now(),
      traceId: opts.traceId,
      idempotencyKey: key,
    };
    // Only a key becomes a Nats-Msg-Id. Without one there is nothing to deduplicate: the execution
    // id is new for every request and nothing resends a publish (a lost ack answers 503), while
    // the server's duplicate tracking would cost it about half its publish rate (BENCHMARKS.md).
    let msgId = key === undefined ? undefined : keyToken(registration, key);
    for (let round = 0; ; round++) {
      const published = await this.publishSoon(message, msgId);
      if (!published.duplicate) return message.executionId;
      const first = await this.queue.at(published.seq);
      if (first) return first.executionId;
      const owner = key === undefined ? undefined : await this.store.findKey(registration, key);
      if (owner !== undefined) return owner;
      if (key === undefined || round >= MAX_STALE_DUPLICATES) {
        throw new Error('a duplicate publish whose first invocation is neither queued nor recorded');
      }
      // The key's first invocation is gone and its key forgotten: the key outlived its TTL within
      // the server's duplicate window (a new registration has a generation of its own, hence
      // new message ids; this still covers a function stored before generations, §3.7).
      // The key starts a new execution, under a message id made from the stale one's sequence:
      // the same on every replica, so concurrent repeats still meet in one execution.
      msgId = `${keyToken(registration, key)}.${published.seq}`;
    }
  }

  /**
   * Each HTTP request arrives in its own socket callback, and the NATS client flushes what was
   * published at the end of that callback: one write syscall per enqueue, the largest single cost
   * of an enqueue in the profile. Deferring the publishes to the end of the event-loop turn
   * (setImmediate runs after every socket read of the turn) sends all the turn's enqueues in one
   * write; the wait is that one turn.
   */
  private publishSoon(message: InvocationMessage, msgId: string | undefined): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      if (this.batch.push({ message, msgId, resolve, reject }) === 1) setImmediate(this.publishBatch);
    });
  }

  private readonly publishBatch = (): void => {
    const batch = this.batch;
    this.batch = [];
    for (const p of batch) this.queue.publish(p.message, p.msgId).then(p.resolve, p.reject);
  };

  /**
   * The execution's status, after waiting up to `waitMs` for it to end; undefined when no
   * replica knows it (never accepted, or its record outlived the TTL).
   */
  async status(id: string, waitMs = 0, signal?: AbortSignal): Promise<ExecutionStatus | undefined> {
    let record = await this.store.get(id);
    let queued: InvocationMessage | undefined;
    if (!record) {
      queued = await this.queue.find(id);
      // It may have started and ended between the two reads.
      if (!queued) record = await this.store.get(id);
      if (!queued && !record) return undefined;
    }
    if (waitMs > 0) record = (await this.store.waitForEnd(id, waitMs, signal)) ?? record;
    if (record) return recordToStatus(record);
    return recordToStatus(queuedRecord(queued!));
  }
}

function queuedRecord(m: InvocationMessage): ExecutionRecord {
  return {
    id: m.executionId,
    functionName: m.functionName,
    status: 'queued',
    attempts: 0,
    createdAt: m.createdAt,
    startedAt: 0,
    finishedAt: 0,
    error: null,
  };
}
