/**
 * The async invocation queue on JetStream: one stream with work-queue retention, a subject per
 * registration and execution (`nanofaas.inv.<function>.<generation>.<executionId>`), and one
 * durable pull consumer per registration (`fn-<function>-<generation>`) shared by every
 * control-plane replica.
 *
 * Why this shape:
 * - The stream holds the invocation until a consumer acks it, so a queued execution needs no
 *   other record: `find()` reads it back by its subject (one persisted write per enqueue).
 * - `max_ack_pending` = the function's `concurrency` caps what is in flight over all replicas;
 *   `max_deliver` = `maxRetries` + 1 bounds the attempts; `ack_wait` is longer than `timeoutMs`
 *   and the holder sends in-progress acks, so a slow call is not redelivered behind its back.
 * - `Nats-Msg-Id` (from an Idempotency-Key) makes the server drop a repeated publish within its
 *   duplicate window and answer with the first message's sequence.
 * - The generation (registry-kv.ts) names one registration of a function: a delete and a new
 *   registration of the same name get different consumers and subjects, so a replica that handles
 *   the delete late removes only what belonged to the deleted registration. Generation '' is a
 *   function stored before generations existed: its names are the old ones
 *   (`nanofaas.inv.<function>.<executionId>`, `fn-<function>`), which no generation's overlap.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { FunctionSpec } from '../contracts/index.js';
import { AckPublisher, MSG_ID_HEADER } from './ack-publisher.js';
import { type NatsClient, nanos } from './client.js';

export const INVOCATION_STREAM = 'NANOFAAS_INVOCATIONS';
const SUBJECT_ROOT = 'nanofaas.inv';

/**
 * Message headers of an invocation, only those it has: the body is the request body as received,
 * the execution id is the subject's last token and the creation time is the stored message's own
 * timestamp. (Messages written before carry the id and time as headers too, still read.) Each
 * header costs the control plane and nats-server CPU per enqueue (BENCHMARKS.md, NATS section).
 */
export const MSG_HEADERS = {
  executionId: 'Nanofaas-Execution-Id',
  createdAt: 'Nanofaas-Created-At',
  traceId: 'Nanofaas-Trace-Id',
  idempotencyKey: 'Nanofaas-Idempotency-Key',
} as const;

/** The last subject token of an invocation: an execution id (newExecutionId / randomUUID). */
const EXECUTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface InvocationMessage {
  executionId: string;
  functionName: string;
  /** The registration it was enqueued for (its subject's generation token). */
  generation: string;
  /** The request body, forwarded to the runtime untouched. */
  body: string;
  createdAt: number;
  traceId: string | undefined;
  idempotencyKey: string | undefined;
}

export interface PublishResult {
  /** The stream sequence of the stored message (the first one's, for a duplicate). */
  seq: number;
  /** The server dropped this publish as a repeat of `msgId` within its duplicate window. */
  duplicate: boolean;
}

/** One delivery of an invocation to this replica. */
export interface Delivery {
  readonly message: InvocationMessage;
  /** 1 for the first delivery; redeliveries (nak, ack_wait expiry, a replica's death) count up. */
  readonly attempt: number;
  /** Terminal outcome recorded: remove the invocation from the queue. */
  ack(): Promise<void>;
  /** Retry later: the server redelivers after `delayMs` (counts toward max_deliver). */
  nak(delayMs: number): void;
  /** Still working on it: restarts the server's ack_wait clock. */
  working(): void;
}

export interface QueueDepth {
  /** Not delivered yet. */
  pending: number;
  /** Delivered to some replica, not acked yet (≤ concurrency). */
  inFlight: number;
}

export interface WorkQueueOptions {
  /** How long the server remembers a Nats-Msg-Id (ms). */
  duplicateWindowMs: number;
  /** Slack added to a function's timeoutMs for its ack_wait (ms). */
  ackWaitSlackMs?: number;
}

/** One registration of a function: its name and generation (registry-kv.ts). */
export interface Registration {
  name: string;
  generation: string;
}

const subjectsOf = ({ name, generation }: Registration): string =>
  generation ? `${SUBJECT_ROOT}.${name}.${generation}` : `${SUBJECT_ROOT}.${name}`;
const subjectOf = (r: Registration, executionId: string): string => `${subjectsOf(r)}.${executionId}`;
const durableOf = ({ name, generation }: Registration): string => (generation ? `fn-${name}-${generation}` : `fn-${name}`);

export function consumerLimits(spec: Pick<FunctionSpec, 'concurrency' | 'maxRetries' | 'timeoutMs'>, slackMs: number) {
  return {
    max_ack_pending: spec.concurrency,
    max_deliver: spec.maxRetries + 1,
    ack_wait_ms: spec.timeoutMs + slackMs,
  };
}

export class NatsWorkQueue {
  private readonly slackMs: number;

  private constructor(
    private readonly client: NatsClient,
    private readonly headersOf: () => MsgHdrs,
    private readonly publisher: AckPublisher,
    options: WorkQueueOptions,
  ) {
    this.slackMs = options.ackWaitSlackMs ?? 5_000;
  }

  /** Creates the stream if needed (or updates its duplicate window). */
  static async open(client: NatsClient, options: WorkQueueOptions): Promise<NatsWorkQueue> {
    const { RetentionPolicy, StorageType, DiscardPolicy } = client.jetstreamModule;
    const config = {
      name: INVOCATION_STREAM,
      subjects: [`${SUBJECT_ROOT}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(options.duplicateWindowMs),
    };
    try {
      await client.jsm.streams.info(INVOCATION_STREAM);
      await client.jsm.streams.update(INVOCATION_STREAM, { duplicate_window: config.duplicate_window });
    } catch {
      await client.jsm.streams.add(config);
    }
    const publisher = new AckPublisher(client.nc, client.transportModule.createInbox());
    return new NatsWorkQueue(client, client.transportModule.headers, publisher, options);
  }

  /**
   * Persist one invocation. Resolves once the server has stored it (the 202 may be answered);
   * rejects if it could not be stored.
   */
  async publish(message: InvocationMessage, msgId?: string): Promise<PublishResult> {
    let h: MsgHdrs | undefined;
    if (message.traceId !== undefined) (h ??= this.headersOf()).set(MSG_HEADERS.traceId, message.traceId);
    if (message.idempotencyKey !== undefined) (h ??= this.headersOf()).set(MSG_HEADERS.idempotencyKey, message.idempotencyKey);
    if (msgId !== undefined) (h ??= this.headersOf()).set(MSG_ID_HEADER, msgId);
    // What js.publish sends, through one shared ack subscription (ack-publisher.ts says why).
    const registration = { name: message.functionName, generation: message.generation };
    return this.publisher.publish(subjectOf(registration, message.executionId), message.body, h);
  }

  /** The queued invocation with this id, if it is still in the stream (not acked yet). */
  async find(executionId: string): Promise<InvocationMessage | undefined> {
    const lookup = (subject: string) => this.client.jsm.streams.getMessage(INVOCATION_STREAM, { last_by_subj: subject }).catch(() => null);
    // A function stored before generations (generation '') has one token less.
    const stored = (await lookup(`${SUBJECT_ROOT}.*.*.${executionId}`)) ?? (await lookup(`${SUBJECT_ROOT}.*.${executionId}`));
    return stored ? toInvocation(stored.subject, stored.header, stored.string(), stored.time) : undefined;
  }

  /** The invocation stored at `seq` (a duplicate publish's original), if not acked yet. */
  async at(seq: number): Promise<InvocationMessage | undefined> {
    const stored = await this.client.jsm.streams.getMessage(INVOCATION_STREAM, { seq }).catch(() => null);
    return stored ? toInvocation(stored.subject, stored.header, stored.string(), stored.time) : undefined;
  }

  /** Creates the registration's durable consumer, or brings its limits in line with the spec. */
  async ensureConsumer(spec: Pick<FunctionSpec, 'name' | 'concurrency' | 'maxRetries' | 'timeoutMs'>, generation: string): Promise<void> {
    const { AckPolicy, DeliverPolicy } = this.client.jetstreamModule;
    const limits = consumerLimits(spec, this.slackMs);
    const registration = { name: spec.name, generation };
    // On nats-server 2.9 adding an existing durable with changed limits updates it.
    await this.client.jsm.consumers.add(INVOCATION_STREAM, {
      durable_name: durableOf(registration),
      filter_subject: `${subjectsOf(registration)}.*`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: limits.max_ack_pending,
      max_deliver: limits.max_deliver,
      ack_wait: nanos(limits.ack_wait_ms),
    });
  }

  /**
   * The registration was deleted: hand every invocation of it still in the stream to `ended`
   * (which records its end), then remove it. Several replicas may run this at once (`ended` must
   * bear being called twice for one invocation), and one may run it long after the function was
   * registered again: it touches only this generation's consumer and subjects.
   *
   * The consumer goes first and the stream is read directly, not fetched through the consumer: a
   * delivery on its way to a subscription that was just closed (a runner's stopped consume, or a
   * nak'ed message redelivered to its stale pull request) stays in flight until ack_wait, so a
   * fetch would not see it, and with max_ack_pending reached would see nothing at all — the purge
   * then dropped those invocations with no record.
   */
  async removeFunction(registration: Registration, ended: (message: InvocationMessage) => Promise<void>): Promise<number> {
    const filter = `${subjectsOf(registration)}.*`;
    await this.client.jsm.consumers.delete(INVOCATION_STREAM, durableOf(registration)).catch(() => false);
    let drained = 0;
    const info = await this.client.jsm.streams.info(INVOCATION_STREAM, { subjects_filter: filter });
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const stored = await this.client.jsm.streams.getMessage(INVOCATION_STREAM, { last_by_subj: subject }).catch(() => null);
      if (!stored) continue; // removed by another replica meanwhile
      const message = toInvocation(stored.subject, stored.header, stored.string(), stored.time);
      if (message) await ended(message);
      await this.client.jsm.streams.deleteMessage(INVOCATION_STREAM, stored.seq, false).catch(() => false);
      drained++;
    }
    // Anything not written by publish() (nothing to record for it).
    await this.client.jsm.streams.purge(INVOCATION_STREAM, { filter }).catch(() => undefined);
    return drained;
  }

  async depth(registration: Registration): Promise<QueueDepth> {
    const info = await this.client.jsm.consumers.info(INVOCATION_STREAM, durableOf(registration));
    return { pending: info.num_pending, inFlight: info.num_ack_pending };
  }

  /**
   * Pull the registration's invocations into `handle`, at most `maxMessages` buffered here (the
   * server's max_ack_pending is what caps in-flight work over all replicas). Returns `stop`.
   */
  async consume(registration: Registration, maxMessages: number, handle: (delivery: Delivery) => void): Promise<() => Promise<void>> {
    const consumer = await this.client.js.consumers.get(INVOCATION_STREAM, durableOf(registration));
    const messages: ConsumerMessages = await consumer.consume({
      max_messages: Math.max(1, maxMessages),
      callback: (msg) => {
        const message = toInvocation(msg.subject, msg.headers, msg.string(), msg.time);
        // A message not written by publish() cannot be run: end it so it does not cycle.
        if (!message) return msg.term('not a nanofaas invocation');
        handle(toDelivery(msg, message));
      },
    });
    return async () => {
      // close() unsubscribes at once (no delivery reaches `handle` after it), but the promise it
      // returns can wait for the pull request in flight to expire: up to 30 s, measured in
      // test/nats/reregister-race.test.ts, during which a re-registration and its enqueues would
      // wait behind this removal. Deliveries held at that moment run out their ack_wait as usual.
      void messages.close().catch(() => undefined);
    };
  }
}

function toDelivery(msg: JsMsg, message: InvocationMessage): Delivery {
  return {
    message,
    attempt: msg.info.deliveryCount,
    async ack() {
      await msg.ackAck();
    },
    nak(delayMs) {
      msg.nak(delayMs);
    },
    working() {
      msg.working();
    },
  };
}

function toInvocation(subject: string, h: MsgHdrs | undefined, body: string, storedAt: Date): InvocationMessage | undefined {
  const parts = subject.split('.');
  const functionName = parts[2];
  // nanofaas.inv.<function>.<generation>.<id>, or .<function>.<id> before generations.
  const generation = parts.length === 5 ? parts[3]! : '';
  const executionId = h?.get(MSG_HEADERS.executionId) || parts.at(-1)!;
  if (!functionName || !EXECUTION_ID.test(executionId)) return undefined;
  const traceId = h?.get(MSG_HEADERS.traceId);
  const key = h?.get(MSG_HEADERS.idempotencyKey);
  return {
    executionId,
    functionName,
    generation,
    body,
    createdAt: Number(h?.get(MSG_HEADERS.createdAt)) || storedAt.getTime(),
    traceId: traceId ? traceId : undefined,
    idempotencyKey: key ? key : undefined,
  };
}
