/**
 * Runs async invocations delivered by the JetStream work queue (NATS mode). Each replica runs
 * one of these; the server spreads each function's deliveries over the replicas and caps them
 * at `concurrency` in flight over all of them (max_ack_pending).
 *
 * Per delivery: wait for a ready endpoint (sending in-progress acks meanwhile, so waiting costs
 * no attempt) → record `running` → one attempt through the dispatcher → on a terminal outcome
 * record it, then ack; on a retryable failure record `queued`, then nak with the back-off of
 * §3.6 (the server redelivers, to any replica). A record is written before the ack or nak, so
 * a crash between the two repeats the attempt rather than losing it (at-least-once).
 *
 * An invocation whose last delivery ends with no outcome (its replica died on the last attempt)
 * is not redelivered by the server; the server's MAX_DELIVERIES advisory makes one replica
 * record it as `error` and remove it, so it is never silently dropped.
 */
import type { FunctionSpec } from '../contracts/index.js';
import type { AttemptResult, Dispatcher } from '../dispatch/dispatcher.js';
import type { ExecutionErrorInfo, Outcome } from '../invocation/executions.js';
import { answerOutcome, failureOutcome } from '../invocation/outcomes.js';
import { backoffDelayMs, shouldRetryAsync } from '../invocation/retry.js';
import type { Metrics } from '../metrics.js';
import type { Endpoint } from '../workloads/backend.js';
import type { NatsClient } from './client.js';
import { type ExecutionRecord, isTerminal, type SharedExecutionStore } from './execution-kv.js';
import { consumerLimits, type Delivery, INVOCATION_STREAM, type NatsWorkQueue } from './work-queue.js';

export interface AsyncRunnerOptions {
  client: NatsClient;
  queue: NatsWorkQueue;
  store: SharedExecutionStore;
  dispatcher: Pick<Dispatcher, 'send'>;
  endpoints(name: string): Endpoint[];
  metrics: Metrics;
  retry: { baseDelayMs: number; maxDelayMs: number };
  logger: { warn(obj: object, msg: string): void };
  /** Added to timeoutMs for the consumer's ack_wait (ms); in-progress acks go every third of it. */
  ackWaitSlackMs?: number;
  now?: () => number;
}

interface Held {
  delivery: Delivery;
  heartbeat: NodeJS.Timeout;
  abort?: (reason: string) => void;
  /** Cut by shutdown and nak'ed: its attempt's result must not be recorded. */
  cut: boolean;
  released: () => void;
  done: Promise<void>;
}

interface FunctionConsumer {
  spec: FunctionSpec;
  /** The registration it consumes (work-queue.ts): a removal of another generation leaves it alone. */
  generation: string;
  stop: () => Promise<void>;
  /** Deliveries waiting for a ready endpoint, in arrival order. */
  waiting: Held[];
  /** Deliveries held by this replica (waiting or running). */
  held: Set<Held>;
  roundRobin: number;
}

export class NatsAsyncRunner {
  private readonly consumers = new Map<string, FunctionConsumer>();
  private readonly now: () => number;
  private readonly slackMs: number;
  private closed = false;
  private stopAdvisories: (() => void) | undefined;

  constructor(private readonly options: AsyncRunnerOptions) {
    this.now = options.now ?? Date.now;
    this.slackMs = options.ackWaitSlackMs ?? 5_000;
  }

  /** Listen for invocations that ran out of deliveries (one replica of all gets each advisory). */
  start(): void {
    const sub = this.options.client.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${INVOCATION_STREAM}.*`, {
      queue: 'nanofaas-max-deliveries',
      callback: (err, msg) => {
        if (err) return;
        const advisory = msg.json<{ stream_seq?: number; deliveries?: number }>();
        if (advisory.stream_seq) void this.exhausted(advisory.stream_seq, advisory.deliveries ?? 0);
      },
    });
    this.stopAdvisories = () => sub.unsubscribe();
  }

  /** Per-replica in-flight count of a function (its share of the global max_ack_pending). */
  inFlight(name: string): number {
    return this.consumers.get(name)?.held.size ?? 0;
  }

  /** Consume the registration `generation` of `spec.name` (a change of the same one updates it). */
  async upsertFunction(spec: FunctionSpec, generation: string): Promise<void> {
    const registration = { name: spec.name, generation };
    await this.options.queue.ensureConsumer(spec, generation);
    const existing = this.consumers.get(spec.name);
    if (existing?.generation === generation) {
      existing.spec = spec;
      this.pump(existing);
      return;
    }
    // Another registration of the name (its removal is the registry's to order): stop consuming it here.
    if (existing) await this.detach(existing);
    const consumer: FunctionConsumer = { spec, generation, stop: async () => undefined, waiting: [], held: new Set(), roundRobin: 0 };
    this.consumers.set(spec.name, consumer);
    consumer.stop = await this.options.queue.consume(registration, spec.concurrency, (delivery) => this.accept(consumer, delivery));
  }

  /**
   * The registration `generation` of `name` was deleted: stop consuming it; what was still queued
   * ends as FUNCTION_DELETED (§3.9), recorded before its message goes; its idempotency keys go.
   * Attempts already running end with whatever the runtime answers, as in memory mode. Touches
   * nothing of another generation, so it may run late (after the name was registered again).
   */
  async removeFunction(name: string, generation: string): Promise<void> {
    await this.drain(name, generation, await this.stopConsuming(name, generation));
  }

  /**
   * The quick half of a removal: stop consuming registration `generation` of `name` here. Returns
   * the executions still running here (their attempts record what the runtime answers).
   */
  async stopConsuming(name: string, generation: string): Promise<Set<string>> {
    const consumer = this.consumers.get(name);
    return consumer?.generation === generation ? await this.detach(consumer) : new Set<string>();
  }

  /**
   * The slow half, as long as the registration's backlog: what is still queued ends as
   * FUNCTION_DELETED, recorded before its message goes, and its idempotency keys go. It touches
   * only that generation's subjects and keys, so it may run beside the next registration of the
   * name, or twice at once (each message is taken by one of them).
   */
  async drain(name: string, generation: string, runningHere: ReadonlySet<string>): Promise<void> {
    const registration = { name, generation };
    // One running on another replica cannot be told from one whose replica died holding it, so it
    // is ended as deleted (its outcome, if it comes, replaces that): never left without an outcome.
    await this.options.queue.removeFunction(registration, async (m) => {
      if (!runningHere.has(m.executionId)) await this.endDeleted(m.executionId, m.functionName, m.createdAt);
    });
    await this.options.store.forgetFunction(registration);
  }

  /**
   * An invocation of registration `generation` of `name` whose publish was acknowledged after that
   * registration was deleted on this replica: the removal may have read the stream before it was
   * stored (and then purged it). Removing again takes it if it is still there; either way it ends
   * FUNCTION_DELETED unless it had already ended: never left queued with no consumer.
   */
  async removeLate(name: string, generation: string, executionId: string, createdAt: number): Promise<void> {
    await this.removeFunction(name, generation);
    await this.endDeleted(executionId, name, createdAt);
  }

  /** Records FUNCTION_DELETED (§3.9) for an execution that has not ended. */
  private async endDeleted(id: string, functionName: string, createdAt: number): Promise<void> {
    const now = this.now();
    const record = (await this.options.store.get(id)) ?? {
      id,
      functionName,
      status: 'queued' as const,
      attempts: 0,
      createdAt: createdAt || now,
      startedAt: 0,
      finishedAt: 0,
      error: null,
    };
    if (isTerminal(record.status)) return;
    const deleted: ExecutionErrorInfo = {
      error: 'FUNCTION_DELETED',
      message: `function "${functionName}" was deleted before the invocation ran`,
    };
    await this.finish(record, { status: 'error', httpStatus: 502, error: deleted }, record.attempts, now);
  }

  /**
   * Stop consuming here: deliveries held but not started are let go (the server redelivers them,
   * or a removal reads them from the stream). Returns the executions still running here.
   */
  private async detach(consumer: FunctionConsumer): Promise<Set<string>> {
    if (this.consumers.get(consumer.spec.name) === consumer) this.consumers.delete(consumer.spec.name);
    const runningHere = new Set<string>();
    for (const held of consumer.held) if (!consumer.waiting.includes(held)) runningHere.add(held.delivery.message.executionId);
    await consumer.stop();
    for (const held of consumer.waiting) {
      held.delivery.nak(0);
      this.release(consumer, held);
    }
    consumer.waiting = [];
    return runningHere;
  }

  /** The backend's endpoints of `name` changed: deliveries waiting for one may start now. */
  endpointsChanged(name: string): void {
    const consumer = this.consumers.get(name);
    if (consumer) this.pump(consumer);
  }

  private accept(consumer: FunctionConsumer, delivery: Delivery): void {
    const ackWaitMs = consumerLimits(consumer.spec, this.slackMs).ack_wait_ms;
    let released = (): void => undefined;
    const done = new Promise<void>((resolve) => (released = resolve));
    const held: Held = {
      delivery,
      heartbeat: setInterval(() => delivery.working(), Math.max(100, ackWaitMs / 3)),
      cut: false,
      released,
      done,
    };
    consumer.held.add(held);
    consumer.waiting.push(held);
    this.pump(consumer);
  }

  private nextEndpoint(consumer: FunctionConsumer): string | undefined {
    const endpoints = this.options.endpoints(consumer.spec.name);
    const n = endpoints.length;
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[(consumer.roundRobin + i) % n]!;
      if (endpoint.ready) {
        consumer.roundRobin = (consumer.roundRobin + i + 1) % n;
        return endpoint.url;
      }
    }
    return undefined;
  }

  private pump(consumer: FunctionConsumer): void {
    while (!this.closed && consumer.waiting.length > 0) {
      const endpoint = this.nextEndpoint(consumer);
      if (!endpoint) return; // endpointsChanged() comes back here
      const held = consumer.waiting.shift()!;
      void this.run(consumer, held, endpoint).catch((err: unknown) => {
        // The record could not be written (NATS unreachable): neither ack nor nak, so the server
        // redelivers after ack_wait. At-least-once, never lost.
        this.options.logger.warn({ err: String(err), executionId: held.delivery.message.executionId }, 'async delivery not settled');
        this.release(consumer, held);
      });
    }
  }

  private release(consumer: FunctionConsumer, held: Held): void {
    clearInterval(held.heartbeat);
    consumer.held.delete(held);
    held.released();
  }

  private async run(consumer: FunctionConsumer, held: Held, endpoint: string): Promise<void> {
    const { delivery } = held;
    const m = delivery.message;
    const spec = consumer.spec;
    const attempt = delivery.attempt;
    const startedAt = this.now();
    const metrics = this.options.metrics.forFunction(spec.name);
    const fresh: ExecutionRecord = {
      id: m.executionId,
      functionName: m.functionName,
      status: 'running',
      attempts: attempt,
      createdAt: m.createdAt || startedAt,
      startedAt,
      finishedAt: 0,
      error: null,
    };
    const begun = await this.options.store.begin(fresh);
    let record = begun.record;
    if (!begun.created) {
      // A redelivery, or a duplicate of an invocation that already ended: run only if it has not.
      if (isTerminal(record.status)) {
        await delivery.ack();
        this.release(consumer, held);
        return;
      }
      record = { ...record, status: 'running', attempts: attempt, startedAt: record.startedAt || startedAt };
      await this.options.store.put(record);
    } else {
      metrics.queueWait.observe(Math.max(0, startedAt - fresh.createdAt) / 1000);
      if (m.idempotencyKey !== undefined) {
        await this.options.store.claimKey({ name: m.functionName, generation: m.generation }, m.idempotencyKey, m.executionId);
      }
    }
    if (held.cut) return;
    metrics.dispatch.inc();
    const result = await new Promise<AttemptResult>((resolve) => {
      const handle = this.options.dispatcher.send(
        endpoint,
        {
          body: m.body,
          executionId: m.executionId,
          traceId: m.traceId,
          idempotencyKey: m.idempotencyKey,
          attempt,
          timeoutMs: spec.timeoutMs,
        },
        resolve,
      );
      held.abort = (reason) => handle.abort(reason);
    });
    held.abort = undefined;
    if (held.cut) return;
    const finishedAt = this.now();
    metrics.latency.observe((finishedAt - startedAt) / 1000);
    if (result.kind === 'ok' && result.coldStart) metrics.coldStart.inc();
    if (result.kind !== 'ok' && shouldRetryAsync(result.kind, attempt, spec.maxRetries) && this.closed) {
      // Shutting down: leave the retry to another replica (or to this one after its restart).
      delivery.nak(0);
    } else if (result.kind !== 'ok' && shouldRetryAsync(result.kind, attempt, spec.maxRetries)) {
      metrics.retry.inc();
      await this.options.store.put({ ...record, status: 'queued', attempts: attempt });
      delivery.nak(backoffDelayMs(attempt, this.options.retry.baseDelayMs, this.options.retry.maxDelayMs));
    } else {
      const outcome = result.kind === 'ok' ? answerOutcome(result.body, result.json, result.status) : failureOutcome(result);
      await this.finish(record, outcome, attempt, finishedAt);
      await delivery.ack();
    }
    this.release(consumer, held);
    this.pump(consumer);
  }

  private async finish(record: ExecutionRecord, outcome: Outcome, attempt: number, finishedAt: number): Promise<void> {
    const ended: ExecutionRecord = {
      ...record,
      status: outcome.status,
      attempts: attempt,
      finishedAt,
      error: outcome.error ?? null,
      ...(outcome.outputJson !== undefined ? { outputJson: outcome.outputJson } : {}),
    };
    await this.options.store.put(ended);
    const m = this.options.metrics.forFunction(record.functionName);
    if (outcome.status === 'success') m.success.inc();
    else if (outcome.status === 'timeout') m.timeout.inc();
    else m.error.inc();
    m.e2eLatency.observe(Math.max(0, finishedAt - record.createdAt) / 1000);
  }

  /** An invocation was delivered max_deliver times with no outcome: record it as an error, remove it. */
  private async exhausted(seq: number, deliveries: number): Promise<void> {
    try {
      const m = await this.options.queue.at(seq);
      if (!m) return;
      const record = await this.options.store.get(m.executionId);
      if (!record || !isTerminal(record.status)) {
        const error: ExecutionErrorInfo = {
          error: 'FUNCTION_ERROR',
          message: `delivered ${deliveries} time(s) (maxRetries + 1) without an outcome: the replicas running it stopped`,
          details: { cause: 'max-deliveries', deliveries },
        };
        const now = this.now();
        await this.finish(
          record ?? {
            id: m.executionId,
            functionName: m.functionName,
            status: 'running',
            attempts: deliveries,
            createdAt: m.createdAt || now,
            startedAt: now,
            finishedAt: 0,
            error: null,
          },
          { status: 'error', httpStatus: 502, error },
          deliveries,
          now,
        );
      }
      await this.options.client.jsm.streams.deleteMessage(INVOCATION_STREAM, seq, false);
    } catch (err) {
      this.options.logger.warn({ err: String(err), seq }, 'could not record an invocation that ran out of deliveries');
    }
  }

  /**
   * Shutdown: stop taking deliveries, give running attempts `graceMs`, then cut them and nak
   * them at once so another replica (or this one after a restart) runs them again.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closed = true;
    this.stopAdvisories?.();
    const consumers = [...this.consumers.values()];
    await Promise.all(consumers.map((c) => c.stop()));
    for (const c of consumers) {
      for (const held of c.waiting) {
        held.delivery.nak(0);
        this.release(c, held);
      }
      c.waiting = [];
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(consumers.flatMap((c) => [...c.held].map((h) => h.done))), grace]);
    clearTimeout(timer);
    for (const c of consumers) {
      for (const held of [...c.held]) {
        held.cut = true;
        held.abort?.('control plane shutting down');
        held.delivery.nak(0);
        this.release(c, held);
      }
    }
    this.consumers.clear();
  }
}
