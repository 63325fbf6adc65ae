/**
 * One function's queue and scheduler. Two lanes — sync ahead of async, but after SYNC_BURST sync
 * picks in a row a waiting async job goes next, so async is never starved — and a concurrency
 * limit. Dispatch is event-driven: a job is started when it arrives to a free slot, when a slot
 * frees, or when the backend reports a new ready endpoint. Nothing polls.
 */
import { type FunctionSpec, HEADERS } from '../contracts/index.js';
import type { AttemptHandle, AttemptResult, Dispatcher } from '../dispatch/dispatcher.js';
import type { Endpoint } from '../workloads/backend.js';
import type { FunctionMetrics } from '../metrics.js';
import { ServiceTime } from './admission.js';
import type { Execution, Outcome } from './executions.js';
import { Fifo } from './fifo.js';
import { failureOutcome, answerOutcome, timeoutOutcome } from './outcomes.js';
import { backoffDelayMs, shouldRetryAsync, shouldRetrySync } from './retry.js';

const SYNC_BURST = 4;

export interface Job {
  readonly execution: Execution;
  readonly body: string;
  readonly traceId: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly sync: boolean;
  /** Sync: absolute deadline (ms). Async: 0, each attempt gets the spec timeout. */
  readonly deadline: number;
  /** QueueContext.clock() at acceptance, like attemptStartedAt: for durations only. */
  readonly acceptedAt: number;
  queueTimer: NodeJS.Timeout | undefined;
  /** Counted in `queued` (set on enqueue, cleared exactly once when it leaves the lane's count). */
  inQueue: boolean;
  handle: AttemptHandle | undefined;
  attemptStartedAt: number;
}

export interface QueueContext {
  dispatcher: Dispatcher;
  endpoints(name: string): Endpoint[];
  /** Ends an execution (metrics + listeners); false when it had already ended. `at`: clock() just read, if any. */
  settle(job: Job, outcome: Outcome, attempt: number, at?: number): boolean;
  retry: { baseDelayMs: number; maxDelayMs: number };
  maxQueueWaitMs: number;
  retryAfterSeconds: number;
  now(): number;
  /**
   * Milliseconds for the durations the histograms observe (acceptedAt, attemptStartedAt): monotonic
   * and sub-millisecond, where Date.now() would put every fast call on a whole millisecond.
   */
  clock(): number;
}

export class FunctionQueue {
  private readonly syncLane = new Fifo<Job>();
  private readonly asyncLane = new Fifo<Job>();
  private readonly running = new Set<Job>();
  private readonly backingOff = new Map<Job, NodeJS.Timeout>();
  private syncStreak = 0;
  private roundRobin = 0;
  private closed = false;
  private idleWaiters: (() => void)[] | undefined;
  /** Live queued jobs; lanes may also hold jobs that ended while waiting (skipped on dequeue). */
  queued = 0;
  readonly serviceTime = new ServiceTime();

  constructor(
    public spec: FunctionSpec,
    readonly metrics: FunctionMetrics,
    private readonly ctx: QueueContext,
  ) {}

  get inFlight(): number {
    return this.running.size;
  }

  submit(job: Job): void {
    if (this.queued === 0 && this.running.size < this.spec.concurrency) {
      const endpoint = this.nextEndpoint();
      if (endpoint) {
        // Started as it is accepted: no time has passed, so the acceptance's clock readings serve.
        this.start(job, endpoint, job.execution.createdAt, job.acceptedAt);
        return;
      }
    }
    this.enqueue(job, false);
  }

  private enqueue(job: Job, front: boolean): void {
    const lane = job.sync ? this.syncLane : this.asyncLane;
    if (front) lane.unshift(job);
    else lane.push(job);
    job.inQueue = true;
    this.queued++;
    if (job.sync && !job.queueTimer) {
      const remaining = job.deadline - this.ctx.now();
      const waitLimit = Math.min(remaining, this.ctx.maxQueueWaitMs);
      job.queueTimer = setTimeout(() => this.expireQueued(job, waitLimit < remaining), Math.max(0, waitLimit));
    }
  }

  /** A sync job waited too long: past its deadline (504) or past the max queue wait (429 timeout). */
  private expireQueued(job: Job, queueWaitExceeded: boolean): void {
    job.queueTimer = undefined;
    if (!job.inQueue || job.execution.outcome) return;
    job.inQueue = false;
    this.queued--;
    if (queueWaitExceeded) {
      this.metrics.queueRejected.inc();
      this.ctx.settle(
        job,
        {
          status: 'error',
          httpStatus: 429,
          error: {
            error: 'QUEUE_FULL',
            message: `waited longer than ${this.ctx.maxQueueWaitMs} ms in the queue`,
            details: { reason: 'timeout' },
          },
          headers: { [HEADERS.retryAfter]: String(this.ctx.retryAfterSeconds), [HEADERS.queueRejectReason]: 'timeout' },
        },
        0,
      );
    } else {
      this.ctx.settle(job, timeoutOutcome('the deadline passed while the invocation was queued'), 0);
    }
  }

  private nextEndpoint(): string | undefined {
    const endpoints = this.ctx.endpoints(this.spec.name);
    const n = endpoints.length;
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[(this.roundRobin + i) % n]!;
      if (endpoint.ready) {
        this.roundRobin = (this.roundRobin + i + 1) % n;
        return endpoint.url;
      }
    }
    return undefined;
  }

  private dequeue(): Job | undefined {
    while (this.syncLane.length > 0 || this.asyncLane.length > 0) {
      let job: Job | undefined;
      if (this.syncLane.length > 0 && (this.syncStreak < SYNC_BURST || this.asyncLane.length === 0)) {
        job = this.syncLane.shift();
        this.syncStreak = this.asyncLane.length > 0 ? this.syncStreak + 1 : 0;
      } else {
        job = this.asyncLane.shift();
        this.syncStreak = 0;
      }
      if (!job) continue;
      if (job.inQueue) {
        job.inQueue = false;
        this.queued--;
      }
      // A job may have ended while it waited (deadline, runtime callback): skip it.
      if (!job.execution.outcome) return job;
    }
    return undefined;
  }

  /** Start queued jobs while there are free slots and ready endpoints. */
  pump(): void {
    while (!this.closed && this.queued > 0 && this.running.size < this.spec.concurrency) {
      const endpoint = this.nextEndpoint();
      if (!endpoint) return; // the backend's onChange will call pump() again
      const job = this.dequeue();
      if (!job) return;
      this.start(job, endpoint, this.ctx.now(), this.ctx.clock());
    }
  }

  /** `now` and `mark`: ctx.now() and ctx.clock() as the job starts. */
  private start(job: Job, endpoint: string, now: number, mark: number): void {
    const execution = job.execution;
    if (job.queueTimer) {
      clearTimeout(job.queueTimer);
      job.queueTimer = undefined;
    }
    let timeoutMs = this.spec.timeoutMs;
    if (job.sync) {
      timeoutMs = job.deadline - now;
      if (timeoutMs <= 0) {
        this.ctx.settle(job, timeoutOutcome('the deadline passed before the invocation could start'), execution.attempts);
        return;
      }
    }
    if (execution.attempts === 0) {
      execution.startedAt = now;
      this.metrics.queueWait.observe((mark - job.acceptedAt) / 1000);
    }
    execution.status = 'running';
    const attempt = ++execution.attempts;
    job.attemptStartedAt = mark;
    this.running.add(job);
    this.metrics.dispatch.inc();
    job.handle = this.ctx.dispatcher.send(
      endpoint,
      { body: job.body, executionId: execution.id, traceId: job.traceId, idempotencyKey: job.idempotencyKey, attempt, timeoutMs },
      (result) => this.finishAttempt(job, attempt, result),
    );
  }

  private finishAttempt(job: Job, attempt: number, result: AttemptResult): void {
    this.running.delete(job);
    job.handle = undefined;
    if (this.idleWaiters && this.running.size === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters = undefined;
    }
    const ended = this.ctx.clock();
    const elapsedMs = ended - job.attemptStartedAt;
    this.metrics.latency.observe(elapsedMs / 1000);
    if (result.kind === 'ok') {
      this.serviceTime.observe(elapsedMs);
      if (result.coldStart) this.metrics.coldStart.inc();
      this.ctx.settle(job, answerOutcome(result.body, result.json, result.status), attempt, ended);
    } else if (!job.execution.outcome) {
      const now = this.ctx.now();
      if (result.kind !== 'connection' && result.kind !== 'refused') this.serviceTime.observe(elapsedMs);
      const retry = job.sync
        ? shouldRetrySync(result.kind, attempt, this.spec.maxRetries, job.deadline - now, job.idempotencyKey !== undefined)
        : shouldRetryAsync(result.kind, attempt, this.spec.maxRetries);
      if (retry && !this.closed) {
        this.metrics.retry.inc();
        job.execution.status = 'queued';
        if (job.sync) this.enqueue(job, true);
        else this.scheduleRetry(job, attempt);
      } else {
        this.ctx.settle(job, failureOutcome(result), attempt);
      }
    }
    this.pump();
  }

  private scheduleRetry(job: Job, attempt: number): void {
    const delay = backoffDelayMs(attempt, this.ctx.retry.baseDelayMs, this.ctx.retry.maxDelayMs);
    const timer = setTimeout(() => {
      this.backingOff.delete(job);
      if (job.execution.outcome) return;
      this.enqueue(job, true);
      this.pump();
    }, delay);
    this.backingOff.set(job, timer);
  }

  /** End every job that has not started (delete, shutdown) with `outcome`. */
  endWaiting(outcome: Outcome): void {
    for (const lane of [this.syncLane, this.asyncLane]) {
      for (const job of lane.drain()) {
        if (job.queueTimer) clearTimeout(job.queueTimer);
        job.inQueue = false;
        if (!job.execution.outcome) this.ctx.settle(job, outcome, job.execution.attempts);
      }
    }
    this.queued = 0;
    for (const [job, timer] of this.backingOff) {
      clearTimeout(timer);
      this.ctx.settle(job, outcome, job.execution.attempts);
    }
    this.backingOff.clear();
  }

  /** End the sync calls still waiting (the function cannot start); async ones stay queued. */
  endWaitingSync(outcome: Outcome): void {
    for (const job of this.syncLane.drain()) {
      if (job.queueTimer) {
        clearTimeout(job.queueTimer);
        job.queueTimer = undefined;
      }
      if (job.inQueue) {
        job.inQueue = false;
        this.queued--;
      }
      if (!job.execution.outcome) this.ctx.settle(job, outcome, job.execution.attempts);
    }
  }

  /** Shutdown, phase 1: start nothing new and end everything still waiting. */
  close(outcome: Outcome): void {
    this.closed = true;
    this.endWaiting(outcome);
  }

  /** Shutdown, phase 2 (grace elapsed): end the attempts still running and cut their requests. */
  abortRunning(outcome: Outcome): void {
    for (const job of [...this.running]) {
      this.ctx.settle(job, outcome, job.execution.attempts);
      job.handle?.abort('control plane shutting down');
    }
  }

  /** Resolves when no attempt is running. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }
}
