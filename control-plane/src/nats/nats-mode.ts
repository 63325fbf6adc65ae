/**
 * NATS mode in one place (docs/design.md §3.12), so wiring it into the control plane is a few
 * lines: connect, open the stream and buckets, and hand out the parts the rest of the control
 * plane uses — the registry store, the async front for the API, the runner that consumes, the
 * invoker wrapper that keeps the consumers in step with the registry, readiness and shutdown.
 * Only loaded (dynamic import) when NANOFAAS_NATS_URL is set.
 */
import type { NatsConfig } from '../config.js';
import { type ExecutionStatus, type FunctionSpec, type FunctionStatus, HEADERS } from '../contracts/index.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { ApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { FunctionQueues } from '../registry/function-registry.js';
import type { Endpoint } from '../workloads/backend.js';
import { NatsAsyncFront } from './async-front.js';
import { NatsAsyncRunner } from './async-runner.js';
import { connectNats, type NatsClient } from './client.js';
import { DrainLedger } from './drain-ledger.js';
import { KvExecutionStore } from './execution-kv.js';
import { KvFunctionStore, type RegistryChange } from './registry-kv.js';
import { NatsWorkQueue, type QueueDepth, type Registration } from './work-queue.js';

export interface NatsModeOptions {
  config: NatsConfig;
  executionTtlMs: number;
  idempotencyTtlMs: number;
  dispatcher: Dispatcher;
  metrics: Metrics;
  endpoints(name: string): Endpoint[];
  /** The registered spec (FunctionRegistry.get) and the backend's status of a function. */
  spec(name: string): FunctionSpec | undefined;
  status(name: string): FunctionStatus;
  retryAfterSeconds: number;
  retry: { baseDelayMs: number; maxDelayMs: number };
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** What the API needs of NATS mode (app.ts takes it as a type only, so memory mode loads nothing). */
export interface AsyncInvocations {
  enqueue(name: string, body: string, opts: { traceId: string | undefined; idempotencyKey: string | undefined }): Promise<string>;
  /** An async execution's status (after up to `waitMs` for it to end); undefined when unknown. */
  status(id: string, waitMs: number, signal?: AbortSignal): Promise<ExecutionStatus | undefined>;
}

export interface NatsMode extends AsyncInvocations {
  readonly client: NatsClient;
  readonly functionStore: KvFunctionStore;
  readonly front: NatsAsyncFront;
  readonly runner: NatsAsyncRunner;
  /**
   * `:enqueue` in NATS mode: the admission of §3.2 that applies (404, 503 SHUTTING_DOWN or
   * FUNCTION_UNAVAILABLE, 429 QUEUE_FULL against the consumer's pending count), then a persisted
   * publish. Resolves with the execution id once the server has stored the invocation.
   */
  enqueue(name: string, body: string, opts: { traceId: string | undefined; idempotencyKey: string | undefined }): Promise<string>;
  /** The invoker's queues plus this replica's async consumers, for FunctionRegistry. */
  queues(invoker: FunctionQueues): FunctionQueues;
  /** Queue depth from the consumer's pending count, refreshed in the background (gauges). */
  depth(name: string): QueueDepth;
  /** Starts the registry watch; `apply` is FunctionRegistry.applyRemote. */
  watchRegistry(apply: (change: RegistryChange) => Promise<void>): Promise<void>;
  /**
   * After the registry is loaded: drains, in the background, every deleted registration whose
   * drain no replica finished (drain-ledger.ts). Resolves with how many it started.
   */
  resumeDrains(): Promise<number>;
  /** Connected and JetStream answering (for /readyz). */
  ready(): Promise<boolean>;
  shutdown(graceMs: number): Promise<void>;
}

const DEPTH_REFRESH_MS = 1_000;
const MAX_DEPTH_REFRESH_MS = 10_000;

export async function openNatsMode(options: NatsModeOptions): Promise<NatsMode> {
  const client = await connectNats({ url: options.config.url });
  const [queue, store, drains] = await Promise.all([
    NatsWorkQueue.open(client, { duplicateWindowMs: options.config.duplicateWindowMs, ackWaitSlackMs: options.config.ackWaitSlackMs }),
    KvExecutionStore.open(client, { executionTtlMs: options.executionTtlMs, idempotencyTtlMs: options.idempotencyTtlMs }),
    DrainLedger.open(client),
  ]);
  const functionStore = await KvFunctionStore.open(client, (registration) => drains.note(registration));
  const runner = new NatsAsyncRunner({
    client,
    queue,
    store,
    dispatcher: options.dispatcher,
    endpoints: options.endpoints,
    metrics: options.metrics,
    retry: options.retry,
    logger: options.logger,
    ackWaitSlackMs: options.config.ackWaitSlackMs,
  });
  runner.start();
  const front = new NatsAsyncFront(queue, store);

  // The registration (generation, registry-kv.ts) this replica serves each function as: what its
  // enqueues publish to and its runner consumes. Set and cleared with the registry's own changes.
  const generations = new Map<string, string>();
  const registrationOf = (name: string): Registration | undefined => {
    const generation = generations.get(name) ?? functionStore.generationOf(name);
    return generation === undefined ? undefined : { name, generation };
  };

  const depths = new Map<string, QueueDepth>();
  // One consumer info per function per refresh. nats-server 2.9 counts a consumer's pending
  // messages by walking the stream's per-subject state (a subject per queued invocation), so with
  // a deep backlog one info takes it tens of ms, during which publishes wait (BENCHMARKS.md, NATS
  // section). The next refresh comes a second after this one, or 20× its duration if longer (at
  // most 10 s: an info that waited out an outage must not hold the next one back long): the
  // counts stay at most a second old while reading them is cheap, and take at most about a
  // twentieth of the server's time when it is not.
  let refresh: NodeJS.Timeout | undefined;
  const refreshDepths = async (): Promise<void> => {
    const began = Date.now();
    await Promise.all(
      [...depths.keys()].map((name) => {
        const registration = registrationOf(name);
        if (!registration) return undefined;
        return queue.depth(registration).then(
          (d) => depths.has(name) && depths.set(name, d),
          () => undefined,
        );
      }),
    );
    if (closing) return;
    refresh = setTimeout(refreshDepths, Math.min(MAX_DEPTH_REFRESH_MS, Math.max(DEPTH_REFRESH_MS, 20 * (Date.now() - began))));
    refresh.unref();
  };
  refresh = setTimeout(refreshDepths, DEPTH_REFRESH_MS);
  refresh.unref();
  let stopWatch: (() => void) | undefined;
  let closing = false;

  // A function's consumer changes (create or update, stop consuming a removed registration) run
  // one after the other, in the order the registry made them, so this replica's runner never
  // consumes two registrations of one name at once; an enqueue waits for the change in progress.
  // Draining a removed registration's backlog is not in that order: it touches only its own
  // generation's invocations and keys, so it runs beside the next registration of the name (and a
  // late one, here or on another replica, cannot take the next registration's), and however long
  // the backlog, the next registration's consumer and enqueues do not wait for it. Drains of one
  // registration run one after the other (a repeated removal finds what the first left).
  const changing = new Map<string, Promise<void>>();
  const draining = new Map<string, Promise<void>>();
  const chained = (chains: Map<string, Promise<void>>, key: string, work: () => Promise<void>): Promise<void> => {
    const next = (chains.get(key) ?? Promise.resolve()).then(work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    chains.set(key, settled);
    void settled.then(() => chains.get(key) === settled && chains.delete(key));
    return next;
  };
  const inOrder = (name: string, change: () => Promise<void>): Promise<void> => chained(changing, name, change);
  /** Not waited for by the name's changes: see above. */
  const drainLater = (name: string, generation: string, drain: () => Promise<void>, failed: (err: unknown) => void): void => {
    chained(draining, `${name} ${generation}`, drain).catch(failed);
  };

  /** Drains a deleted registration's backlog, then takes its note off the ledger. */
  const drainDeleted = (name: string, generation: string, runningHere: ReadonlySet<string>): void => {
    drainLater(
      name,
      generation,
      async () => {
        await runner.drain(name, generation, runningHere);
        await drains.done({ name, generation });
      },
      (err) => {
        const log = { err: String(err), function: name };
        // Still noted in the ledger: the next start of a replica drains it.
        if (closing)
          options.logger.warn(log, 'draining a deleted function’s async queue stopped with the shutdown; the next start finishes it');
        else options.logger.error(log, 'could not drain a deleted function’s async queue; the next start retries');
      },
    );
  };

  const remove = (name: string, generation: string): void => {
    if (generations.get(name) === generation) {
      generations.delete(name);
      depths.delete(name);
    }
    inOrder(name, async () => {
      drainDeleted(name, generation, await runner.stopConsuming(name, generation));
    }).catch((err: unknown) => {
      options.logger.error({ err: String(err), function: name }, 'could not stop consuming a deleted function’s async queue');
    });
  };

  // `given`: the generation a change from the shared registry names; a local change (register,
  // scale, restore) is of the registration as stored.
  const upsert = (spec: FunctionSpec, given: string | undefined): void => {
    const generation = given ?? functionStore.generationOf(spec.name) ?? generations.get(spec.name) ?? '';
    const current = generations.get(spec.name);
    // Another registration while one is served: the earlier one was deleted unseen.
    if (current !== undefined && current !== generation) remove(spec.name, current);
    generations.set(spec.name, generation);
    if (!depths.has(spec.name)) depths.set(spec.name, { pending: 0, inFlight: 0 });
    inOrder(spec.name, () => runner.upsertFunction(spec, generation)).catch((err: unknown) => {
      options.logger.error({ err: String(err), function: spec.name }, 'could not start consuming the function’s async queue');
    });
  };

  return {
    client,
    functionStore,
    front,
    runner,
    queues(invoker) {
      return {
        upsertFunction(spec, generation) {
          invoker.upsertFunction(spec);
          upsert(spec, generation);
        },
        removeFunction(name, generation) {
          invoker.removeFunction(name);
          const removed = generation ?? generations.get(name);
          if (removed !== undefined) remove(name, removed);
        },
      };
    },
    depth(name) {
      return depths.get(name) ?? { pending: 0, inFlight: 0 };
    },
    status(id, waitMs, signal) {
      return front.status(id, waitMs, signal);
    },
    async enqueue(name, body, opts) {
      const spec = options.spec(name);
      if (!spec) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not registered`);
      if (closing) throw new ApiError('SHUTTING_DOWN', 'the control plane is shutting down');
      // A consumer change in progress here finishes first (a registration's consumer exists
      // before its first invocation is published from this replica).
      const pending = changing.get(name);
      if (pending) await pending;
      // The registration it is published to: its generation names the subject and the keys.
      const registration = registrationOf(name);
      if (!registration) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not registered`);
      const metrics = options.metrics.forFunction(name);
      // A repeated key joins its execution and is never refused (§3.2); within the duplicate
      // window, before its key is written, the publish below finds it instead.
      const key = opts.idempotencyKey;
      const known =
        key === undefined ? undefined : await front.known(registration, key).catch((err: unknown) => Promise.reject(notPersisted(err)));
      if (known !== undefined) return known;
      refuseUnavailable(name, options);
      // As §3.2, queueSize bounds only a call that would wait: something pending, or all
      // `concurrency` (max_ack_pending) deliveries held. The counts are at most a second old: a
      // burst can overshoot queueSize by what arrives within that second, never by more. With
      // queueSize 0 nothing may wait, so the server's live count decides (the snapshot if it
      // cannot answer: the publish then tells whether NATS is there).
      const snapshot = depths.get(name) ?? { pending: 0, inFlight: 0 };
      const depth = spec.queueSize === 0 ? await queue.depth(registration).catch(() => snapshot) : snapshot;
      if (depth.pending >= spec.queueSize && (depth.pending > 0 || depth.inFlight >= spec.concurrency)) {
        metrics.queueRejected.inc();
        throw new ApiError(
          'QUEUE_FULL',
          `queue of "${name}" is full (${spec.queueSize})`,
          { reason: 'depth' },
          { [HEADERS.retryAfter]: String(options.retryAfterSeconds), [HEADERS.queueRejectReason]: 'depth' },
        );
      }
      let id: string;
      try {
        id = await front.enqueue(registration, body, opts, true);
      } catch (err) {
        throw notPersisted(err);
      }
      metrics.enqueue.inc();
      // Deleted here while this was being published: the removal may have read the stream before
      // the message was stored, and no consumer of this generation is left to run it (async-runner
      // removeLate). A removal on another replica comes from its watch, after this publish.
      if (registrationOf(name)?.generation !== registration.generation) {
        const failed = (err: unknown): void => {
          options.logger.error({ err: String(err), function: name }, 'could not end an invocation of a deleted function');
        };
        // After the removal in progress has stopped consuming, and after its drain.
        void inOrder(name, async () => {
          drainLater(name, registration.generation, () => runner.removeLate(name, registration.generation, id, Date.now()), failed);
        });
      }
      return id;
    },
    async watchRegistry(apply) {
      const run = (change: RegistryChange): void => {
        apply(change).catch((err: unknown) => options.logger.error({ err: String(err) }, 'could not apply a registry change'));
      };
      stopWatch = await functionStore.watch((change) => {
        const name = change.kind === 'put' ? change.spec.name : change.name;
        const current = generations.get(name);
        // The deletion of a registration this replica no longer serves (e.g. its own delete coming
        // back after it registered the name again): the current one stays.
        if (change.kind === 'delete' && change.generation !== undefined && change.generation !== current) return;
        // Another registration of a name served here, without its deletion seen first (a watch
        // resumed past it): the deletion goes first, so the registry treats it as new.
        if (change.kind === 'put' && current !== undefined && change.generation !== current) {
          run({ kind: 'delete', name, generation: current });
        }
        run(change);
      });
    },
    async resumeDrains() {
      let started = 0;
      for (const { name, generation } of await drains.pending()) {
        // Noted, but its deletion was never written (or not yet: a delete in flight elsewhere):
        // still registered, so not drained; its deletion notes it again.
        if (functionStore.generationOf(name) === generation) continue;
        drainDeleted(name, generation, new Set());
        started++;
      }
      return started;
    },
    async ready() {
      if (client.nc.isClosed()) return false;
      try {
        await client.jsm.getAccountInfo();
        return true;
      } catch {
        return false;
      }
    },
    async shutdown(graceMs) {
      closing = true;
      clearTimeout(refresh);
      stopWatch?.();
      await runner.shutdown(graceMs);
      await client.close();
    },
  };
}

/** A FAILED function with nothing ready refuses new work at once (§3.9), as in memory mode. */
function refuseUnavailable(name: string, options: NatsModeOptions): void {
  if (options.endpoints(name).some((e) => e.ready)) return;
  const s = options.status(name);
  if (s.state !== 'FAILED') return;
  const reason = s.message ?? 'its workload failed';
  throw new ApiError('FUNCTION_UNAVAILABLE', `function "${name}" cannot start: ${reason}`, { state: s.state, reason });
}

/** The 503 of an enqueue when the invocation could not be stored (NATS unreachable or refusing). */
export function notPersisted(err: unknown): ApiError {
  return new ApiError(
    'BACKEND_UNAVAILABLE',
    `the invocation could not be stored in NATS JetStream: ${err instanceof Error ? err.message : String(err)}`,
  );
}
