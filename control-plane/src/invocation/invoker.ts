/**
 * The invocation service: admits sync and async calls into the per-function queues, tracks
 * executions, applies idempotency keys, accepts runtime completions and drains on shutdown.
 * HTTP handlers call it; it knows nothing about Fastify.
 */
import { type FunctionSpec, type FunctionStatus, HEADERS, type QueueRejectReason } from '../contracts/index.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { ApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Endpoint } from '../workloads/backend.js';
import { admissionReason } from './admission.js';
import { ExecutionWaits } from './execution-waits.js';
import { ExecutionStore, type Execution, type ExecutionErrorInfo, type Outcome } from './executions.js';
import { FunctionQueue, type Job, type QueueContext } from './function-queue.js';
import { IdempotencyIndex } from './idempotency.js';
import { errorOutcome } from './outcomes.js';

export interface InvokerOptions {
  dispatcher: Dispatcher;
  metrics: Metrics;
  endpoints(name: string): Endpoint[];
  replicas(name: string): number;
  /**
   * The function's live status. Asked only when no endpoint is ready: a FAILED function (its
   * workload cannot start) is refused with 503 FUNCTION_UNAVAILABLE instead of being queued.
   */
  status?(name: string): FunctionStatus;
  admission: { enabled: boolean; maxEstimatedWaitMs: number; maxQueueWaitMs: number; retryAfterSeconds: number };
  retry: { baseDelayMs: number; maxDelayMs: number };
  executionTtlMs: number;
  executionMaxRecords: number;
  idempotencyTtlMs: number;
  /** NANOFAAS_MAX_LIVE_EXECUTIONS: queued + running executions over every function (default: no cap). */
  maxLiveExecutions?: number;
  now?: () => number;
}

export interface InvocationOptions {
  traceId: string | undefined;
  idempotencyKey: string | undefined;
  /** Sync only: the caller's X-Timeout-Ms, already validated; capped by the spec's timeout. */
  timeoutMs: number | undefined;
}

export interface CompletionInput {
  attempt?: number | undefined;
  status: 'success' | 'error';
  output?: unknown;
  error?: ExecutionErrorInfo | undefined;
}

export class Invoker {
  readonly executions: ExecutionStore;
  /** Long-polls waiting for executions to end. */
  readonly waits: ExecutionWaits;
  private readonly idempotency: IdempotencyIndex;
  private readonly queues = new Map<string, FunctionQueue>();
  private readonly ctx: QueueContext;
  private readonly now: () => number;
  private shuttingDown = false;

  constructor(private readonly options: InvokerOptions) {
    this.now = options.now ?? Date.now;
    this.executions = new ExecutionStore({ ttlMs: options.executionTtlMs, maxRecords: options.executionMaxRecords, now: this.now });
    this.waits = new ExecutionWaits(this.executions);
    this.idempotency = new IdempotencyIndex(options.idempotencyTtlMs, options.executionMaxRecords, this.now);
    this.ctx = {
      dispatcher: options.dispatcher,
      endpoints: options.endpoints,
      settle: (job, outcome, attempt, at) => this.settle(job.execution, job.acceptedAt, outcome, attempt, at),
      retry: options.retry,
      maxQueueWaitMs: options.admission.maxQueueWaitMs,
      retryAfterSeconds: options.admission.retryAfterSeconds,
      now: this.now,
      // A test that fakes time fakes the durations too.
      clock: options.now ?? (() => performance.now()),
    };
    options.metrics.setGaugeSource({
      forEachFunction: (visit) => {
        for (const [name, q] of this.queues) visit(name, q.queued, q.inFlight, this.options.replicas(name));
      },
    });
  }

  /** Register or update a function's queue (spec changes apply to the next dispatch). */
  upsertFunction(spec: FunctionSpec): void {
    const queue = this.queues.get(spec.name);
    if (queue) {
      queue.spec = spec;
      queue.pump();
    } else {
      this.queues.set(spec.name, new FunctionQueue(spec, this.options.metrics.forFunction(spec.name), this.ctx));
    }
  }

  /** A function was deleted: its still-queued executions end as FUNCTION_DELETED. */
  removeFunction(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    this.queues.delete(name);
    this.idempotency.forgetFunction(name);
    // close(), not just endWaiting(): attempts still running must not schedule retries afterwards.
    queue.close(errorOutcome('FUNCTION_DELETED', 502, `function "${name}" was deleted before the invocation ran`));
    this.releaseUnusedPools();
  }

  /** Queue depth and in-flight count of every function (for the load reporter). */
  forEachLoad(visit: (name: string, queueDepth: number, inFlight: number) => void): void {
    for (const [name, q] of this.queues) visit(name, q.queued, q.inFlight);
  }

  /**
   * The backend's endpoint set changed: queued work may be able to start now. When the function
   * turned FAILED instead, its waiting sync callers get 503 FUNCTION_UNAVAILABLE now rather than
   * a queue timeout later; queued async executions stay queued (they were accepted, and run if a
   * restart succeeds, or end as FUNCTION_DELETED when the function is deleted).
   */
  endpointsChanged(name: string): void {
    const queue = this.queues.get(name);
    if (queue) {
      const down = this.unavailable(name);
      if (down) queue.endWaitingSync({ status: 'error', httpStatus: 503, error: { error: 'FUNCTION_UNAVAILABLE', ...down } });
      else queue.pump();
    }
    this.releaseUnusedPools();
  }

  /** Why the function cannot run a call now (state FAILED, nothing ready), or undefined. */
  private unavailable(name: string): { message: string; details: Record<string, unknown> } | undefined {
    const status = this.options.status;
    if (!status) return undefined;
    for (const endpoint of this.options.endpoints(name)) if (endpoint.ready) return undefined;
    const s = status(name);
    if (s.state !== 'FAILED') return undefined;
    const reason = s.message ?? 'its workload failed';
    return {
      message: `function "${name}" cannot start: ${reason}`,
      details: {
        state: s.state,
        reason,
        ...(s.logPath !== undefined ? { logPath: s.logPath } : {}),
        ...(s.logTail !== undefined ? { logTail: s.logTail } : {}),
      },
    };
  }

  private refuseIfUnavailable(name: string): void {
    const down = this.unavailable(name);
    if (down) throw new ApiError('FUNCTION_UNAVAILABLE', down.message, down.details);
  }

  /**
   * Every (re)spawned replica, scale change or re-registration can bring a new endpoint URL;
   * without this, the pool of each URL it replaced stayed open until shutdown. Endpoint changes
   * are rare next to invocations, so a full pass over the registered functions is cheap.
   */
  private releaseUnusedPools(): void {
    const inUse = new Set<string>();
    for (const name of this.queues.keys()) for (const endpoint of this.options.endpoints(name)) inUse.add(endpoint.url);
    this.options.dispatcher.release(inUse);
  }

  /** `at`: ctx.clock() if the caller has just read it (the end of an attempt), so it is read once. */
  private settle(execution: Execution, acceptedAt: number, outcome: Outcome, attempt: number, at?: number): boolean {
    if (!this.executions.finish(execution, outcome, attempt)) return false;
    const m = this.options.metrics.forFunction(execution.functionName);
    if (outcome.status === 'success') m.success.inc();
    else if (outcome.status === 'timeout') m.timeout.inc();
    else m.error.inc();
    m.e2eLatency.observe(((at ?? this.ctx.clock()) - acceptedAt) / 1000);
    return true;
  }

  private queueFor(name: string): FunctionQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not registered`);
    if (this.shuttingDown) throw new ApiError('SHUTTING_DOWN', 'the control plane is shutting down');
    return queue;
  }

  private reject(queue: FunctionQueue, reason: QueueRejectReason): never {
    queue.metrics.queueRejected.inc();
    const message =
      reason === 'depth'
        ? `queue of "${queue.spec.name}" is full (${queue.spec.queueSize})`
        : `estimated wait for "${queue.spec.name}" exceeds the limit`;
    throw new ApiError(
      'QUEUE_FULL',
      message,
      { reason },
      {
        [HEADERS.retryAfter]: String(this.options.admission.retryAfterSeconds),
        [HEADERS.queueRejectReason]: reason,
      },
    );
  }

  /** Admission, then a new execution record: remembered under its idempotency key and counted once. */
  private admit(queue: FunctionQueue, opts: InvocationOptions, sync: boolean, now: number): Execution {
    const maxLive = this.options.maxLiveExecutions;
    if (maxLive !== undefined && this.executions.live >= maxLive) {
      queue.metrics.queueRejected.inc();
      throw new ApiError(
        'LIMIT_EXCEEDED',
        `NANOFAAS_MAX_LIVE_EXECUTIONS=${maxLive} executions are queued or running on this control plane; retry when some have ended`,
        { limit: 'NANOFAAS_MAX_LIVE_EXECUTIONS', max: maxLive },
        { [HEADERS.retryAfter]: String(this.options.admission.retryAfterSeconds) },
      );
    }
    const reason = admissionReason(
      {
        queued: queue.queued,
        inFlight: queue.inFlight,
        concurrency: queue.spec.concurrency,
        queueSize: queue.spec.queueSize,
        serviceTime: queue.serviceTime,
      },
      this.options.admission,
      sync,
    );
    if (reason) this.reject(queue, reason);
    const name = queue.spec.name;
    const execution = this.executions.create(name, now);
    if (opts.idempotencyKey !== undefined) this.idempotency.remember(name, opts.idempotencyKey, execution);
    queue.metrics.enqueue.inc();
    return execution;
  }

  /**
   * Sync invocation. Returns the execution; `done` is called once it has ended. A duplicate
   * idempotency key joins the earlier execution instead of running again.
   */
  invoke(name: string, body: string, opts: InvocationOptions, done: (execution: Execution) => void): Execution {
    const queue = this.queueFor(name);
    if (opts.idempotencyKey !== undefined) {
      const existing = this.idempotency.find(name, opts.idempotencyKey);
      if (existing) {
        this.executions.whenDone(existing, done);
        return existing;
      }
    }
    this.refuseIfUnavailable(name);
    const now = this.now();
    const execution = this.admit(queue, opts, true, now);
    execution.listeners = [done];
    const timeoutMs = opts.timeoutMs === undefined ? queue.spec.timeoutMs : Math.min(opts.timeoutMs, queue.spec.timeoutMs);
    queue.submit(newJob(execution, body, opts, true, now + timeoutMs, this.ctx.clock()));
    return execution;
  }

  /** Async invocation: returns the queued execution (or the earlier one for a repeated key). */
  enqueue(name: string, body: string, opts: InvocationOptions): Execution {
    const queue = this.queueFor(name);
    if (opts.idempotencyKey !== undefined) {
      const existing = this.idempotency.find(name, opts.idempotencyKey);
      if (existing) return existing;
    }
    // Refused rather than queued: nothing is accepted that could only wait for a fix.
    this.refuseIfUnavailable(name);
    const execution = this.admit(queue, opts, false, this.now());
    queue.submit(newJob(execution, body, opts, false, 0, this.ctx.clock()));
    return execution;
  }

  /**
   * Runtime callback. Idempotent per attempt: repeating the completion that ended the execution
   * changes nothing ('unchanged'); a different result for an ended execution is a conflict.
   */
  complete(id: string, input: CompletionInput): 'completed' | 'unchanged' {
    const execution = this.executions.get(id);
    if (!execution) throw new ApiError('EXECUTION_NOT_FOUND', `execution "${id}" not found`);
    const attempt = input.attempt ?? Math.max(1, execution.attempts);
    if (execution.outcome) {
      if (execution.completedAttempt === attempt && execution.outcome.status === input.status) return 'unchanged';
      throw new ApiError(
        'ALREADY_COMPLETED',
        `execution "${id}" already ended as ${execution.status} (attempt ${execution.completedAttempt})`,
        {
          status: execution.status,
          attempt: execution.completedAttempt,
        },
      );
    }
    if (attempt > execution.attempts) {
      throw new ApiError('VALIDATION_ERROR', `attempt ${attempt} has not been dispatched (attempts so far: ${execution.attempts})`);
    }
    // Every dispatched attempt gets its HTTP answer (or a connection failure / timeout) from the
    // dispatcher, which knows the runtime's status: a 4xx passes through, 5xx and timeouts are
    // retried. A failure callback racing ahead of that answer would end the execution as a plain
    // 502 and cancel its retries, so only a success may end an execution from here.
    if (input.status === 'error') return 'unchanged';
    const outcome: Outcome =
      input.status === 'success'
        ? { status: 'success', httpStatus: 200, outputJson: JSON.stringify(input.output ?? null) }
        : {
            status: 'error',
            httpStatus: 502,
            error: input.error ?? { error: 'FUNCTION_ERROR', message: 'the runtime reported a failure' },
          };
    // settle() times e2e on ctx.clock(); createdAt is wall-clock, so carry its age over.
    this.settle(execution, this.ctx.clock() - (this.now() - execution.createdAt), outcome, attempt);
    return 'completed';
  }

  /**
   * Graceful shutdown: refuse new work, end queued work as SHUTTING_DOWN, give running attempts
   * `graceMs` to finish, then end them as SHUTTING_DOWN and cut their requests.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const stopped = errorOutcome('SHUTTING_DOWN', 503, 'the control plane shut down before the invocation finished');
    const queues = [...this.queues.values()];
    for (const q of queues) q.close(stopped);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(queues.map((q) => q.idle())), grace]);
    clearTimeout(timer);
    for (const q of queues) q.abortRunning(stopped);
    // Every queued or running execution has ended by now, which answered its waiters; this
    // releases any left (e.g. an execution of a function deleted mid-attempt) so close() never hangs.
    this.waits.close();
    this.executions.close();
    this.idempotency.close();
  }
}

function newJob(execution: Execution, body: string, opts: InvocationOptions, sync: boolean, deadline: number, acceptedAt: number): Job {
  return {
    execution,
    body,
    traceId: opts.traceId,
    idempotencyKey: opts.idempotencyKey,
    sync,
    deadline,
    acceptedAt,
    queueTimer: undefined,
    inQueue: false,
    handle: undefined,
    attemptStartedAt: 0,
  };
}
