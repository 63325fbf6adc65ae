/**
 * Execution records and idempotency keys in JetStream KV, readable from every replica.
 *
 * - `nanofaas_executions`, key `x.<executionId>`: the record as JSON, written when an attempt
 *   starts, when it is retried and when the execution ends. The bucket's max age is the
 *   execution TTL, counted from a record's last write, i.e. from when it finished (§3.10).
 *   A queued execution has no record: its invocation in the stream is the record (work-queue.ts).
 * - `nanofaas_idempotency`, key `<function>.<generation>.<sha256(key)>`: the execution id, kept
 *   for the idempotency TTL; the stream's Nats-Msg-Id window covers the moments before it is
 *   written. The generation (work-queue.ts) makes a key belong to one registration: a new
 *   registration starts with none, and the old one's removal cannot forget the new one's.
 *
 * `waitForEnd` is the `?waitMs` long-poll: a KV watch on the one key, so any replica's write
 * answers it.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { ExecutionState, ExecutionStatus } from '../contracts/index.js';
import type { ExecutionErrorInfo } from '../invocation/executions.js';
import type { NatsClient } from './client.js';
import type { Registration } from './work-queue.js';

export const EXECUTION_BUCKET = 'nanofaas_executions';
export const IDEMPOTENCY_BUCKET = 'nanofaas_idempotency';

/** What is stored per execution (times in epoch ms, 0 until they happen). */
export interface ExecutionRecord {
  id: string;
  functionName: string;
  status: ExecutionState;
  attempts: number;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  /** The function's output as JSON text (success only). */
  outputJson?: string;
  error: ExecutionErrorInfo | null;
}

/** The execution records every replica shares (KV here; the in-memory ExecutionStore in memory mode). */
export interface SharedExecutionStore {
  get(id: string): Promise<ExecutionRecord | undefined>;
  /**
   * The first write of an attempt: stores `record` unless one exists, and returns the stored one
   * (so a redelivered or duplicated invocation sees what an earlier delivery did).
   */
  begin(record: ExecutionRecord): Promise<{ created: boolean; record: ExecutionRecord }>;
  put(record: ExecutionRecord): Promise<void>;
  /** Resolves with the record once it is terminal, or with the latest one seen after `waitMs`. */
  waitForEnd(id: string, waitMs: number, signal?: AbortSignal): Promise<ExecutionRecord | undefined>;
  /** The execution an idempotency key of the registration maps to, if any. */
  findKey(registration: Registration, key: string): Promise<string | undefined>;
  /** Maps the key to `executionId` unless it maps to one already; returns the owner's id. */
  claimKey(registration: Registration, key: string, executionId: string): Promise<string>;
  /** The registration was deleted: its keys go (a new registration of the name has its own). */
  forgetFunction(registration: Registration): Promise<void>;
}

export const isTerminal = (status: ExecutionState): boolean => status === 'success' || status === 'error' || status === 'timeout';

/** The KV key prefix of a registration's idempotency keys (generation '': stored before generations). */
const keyPrefix = ({ name, generation }: Registration): string => (generation ? `${name}.${generation}` : name);

/** Idempotency keys are arbitrary header text; KV keys are subject tokens, so the key is hashed. */
export function keyToken(registration: Registration, key: string): string {
  return `${keyPrefix(registration)}.${createHash('sha256').update(key).digest('base64url')}`;
}

const recordKey = (id: string): string => `x.${id}`;
const encoder = new TextEncoder();

export interface KvExecutionStoreOptions {
  executionTtlMs: number;
  idempotencyTtlMs: number;
}

export class KvExecutionStore implements SharedExecutionStore {
  private constructor(
    private readonly records: KV,
    private readonly keys: KV,
    private readonly client: NatsClient,
  ) {}

  static async open(client: NatsClient, options: KvExecutionStoreOptions): Promise<KvExecutionStore> {
    const [records, keys] = await Promise.all([
      client.kvm.create(EXECUTION_BUCKET, { history: 1, ttl: options.executionTtlMs }),
      client.kvm.create(IDEMPOTENCY_BUCKET, { history: 1, ttl: options.idempotencyTtlMs }),
    ]);
    return new KvExecutionStore(records, keys, client);
  }

  async get(id: string): Promise<ExecutionRecord | undefined> {
    const entry = await this.records.get(recordKey(id));
    return entry && entry.operation === 'PUT' ? entry.json<ExecutionRecord>() : undefined;
  }

  async begin(record: ExecutionRecord): Promise<{ created: boolean; record: ExecutionRecord }> {
    try {
      await this.records.create(recordKey(record.id), encoder.encode(JSON.stringify(record)));
      return { created: true, record };
    } catch (err) {
      const existing = await this.get(record.id);
      if (!existing) throw err;
      return { created: false, record: existing };
    }
  }

  async put(record: ExecutionRecord): Promise<void> {
    await this.records.put(recordKey(record.id), encoder.encode(JSON.stringify(record)));
  }

  async waitForEnd(id: string, waitMs: number, signal?: AbortSignal): Promise<ExecutionRecord | undefined> {
    const first = await this.get(id);
    if ((first && isTerminal(first.status)) || waitMs <= 0 || signal?.aborted) return first;
    // The watch starts with the key's current value, so a write between get() and here is seen.
    const watch = await this.records.watch({ key: recordKey(id) });
    const stop = (): void => watch.stop();
    const timer = setTimeout(stop, waitMs);
    signal?.addEventListener('abort', stop, { once: true });
    let latest = first;
    try {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') continue;
        latest = entry.json<ExecutionRecord>();
        if (isTerminal(latest.status)) break;
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      watch.stop();
    }
    return latest;
  }

  async findKey(registration: Registration, key: string): Promise<string | undefined> {
    const entry = await this.keys.get(keyToken(registration, key));
    return entry && entry.operation === 'PUT' ? entry.string() : undefined;
  }

  async claimKey(registration: Registration, key: string, executionId: string): Promise<string> {
    try {
      await this.keys.create(keyToken(registration, key), encoder.encode(executionId));
      return executionId;
    } catch (err) {
      const owner = await this.findKey(registration, key);
      if (owner === undefined) throw err;
      return owner;
    }
  }

  async forgetFunction(registration: Registration): Promise<void> {
    // One purge of the bucket's stream by subject. Listing the keys first (kv.keys) waited out a
    // 30 s timeout on nats-server 2.9 now and then (test/nats/reregister-race.test.ts), and a
    // re-registration's enqueues wait for this removal. Nothing watches this bucket, so the keys
    // need no purge markers. `*` is one token: `<name>.*` (generation '') does not reach a
    // generation's `<name>.<gen>.<hash>`.
    await this.client.jsm.streams.purge(`KV_${IDEMPOTENCY_BUCKET}`, {
      filter: `$KV.${IDEMPOTENCY_BUCKET}.${keyPrefix(registration)}.*`,
    });
  }
}

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

export function recordToStatus(r: ExecutionRecord): ExecutionStatus {
  const status: ExecutionStatus = {
    executionId: r.id,
    functionName: r.functionName,
    status: r.status,
    attempts: r.attempts,
    createdAt: new Date(r.createdAt).toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    error: r.error,
  };
  if (r.outputJson !== undefined) status.output = JSON.parse(r.outputJson) as unknown;
  return status;
}
