import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { MAX_EXECUTION_WAIT_MS } from '@nanofaas/control-plane/contracts';
import { exchange, openPool, type Exchange } from './http.js';
import { buildInput, checkName, passesCheck, STATUS_CHECK, workloadPayload, type Rng } from './payload.js';
import { dueAtMs, dueBy, ratePerSecondAt, scheduleOf, type Schedule } from './arrival.js';
import { totalDurationMs, type Arrival, type LoadProfile, type Thresholds } from './profile.js';
import { maxVus, vusAt } from './ramp.js';
import { RunStats } from './stats.js';
import type { Summary } from './summary.js';

export type LoadMode = 'sync' | 'async';

export interface LoadTarget {
  baseUrl: string;
  /**
   * Every control-plane replica's API base URL when there are several (`up --replicas N`),
   * `baseUrl` among them: the load is spread over them. Same path on each.
   */
  replicaUrls?: readonly string[] | undefined;
  function: string;
  workload: string;
  runtime: string;
  /** NANOFAAS_API_TOKEN of a control plane that requires one: sent as a bearer token. */
  token?: string | undefined;
}

export interface Progress {
  elapsedMs: number;
  totalMs: number;
  vus: number;
  requests: number;
  /** Requests per second over the last progress interval; on the final report, over the whole run (the summary's rate). */
  rps: number;
  p95Ms: number;
  failed: number;
  /** Open model: iterations dropped so far for want of a free VU. */
  dropped?: number;
  /** Open model: the arrival rate the schedule asks for now (per second); on the final report, the run's average. */
  targetRate?: number;
  /** The last report of a run (after every VU stopped): its figures are the summary's. */
  final: boolean;
}

export interface EngineOptions {
  profile: LoadProfile;
  mode: LoadMode;
  thresholds?: Thresholds | undefined;
  rng?: Rng;
  progressIntervalMs?: number;
  onProgress?: (progress: Progress) => void;
  /** Lines for the run's log file (errors, start and end). */
  log?: (line: string) => void;
  /** Stops the run early (Ctrl-C): VUs end at once, in-flight requests are aborted and dropped. */
  signal?: AbortSignal;
}

export interface LoadResult {
  summary: Summary;
  /** The signal stopped the run before its stages ended: the figures cover only part of the profile. */
  interrupted: boolean;
  stats: RunStats;
  start: Date;
  end: Date;
}

/** How often the VU controller re-reads the ramp; k6 adds VUs on a similar granularity. */
const RAMP_TICK_MS = 50;
const TERMINAL = new Set(['success', 'error', 'timeout']);
/** How much longer than its waitMs a long-poll may take to arrive before it counts as lost. */
const LONG_POLL_SLACK_MS = 2_000;

/** The open model's timer never sleeps longer than this, so an interrupt or the end is seen promptly. */
const MAX_PUMP_SLEEP_MS = 100;

/**
 * The built-in engine. Closed model (the profile's `stages`): each VU sends a request, waits for
 * the answer, checks it, thinks, and repeats; the number of VUs follows the ramp like k6's
 * ramping-vus. Open model (the profile's `arrival` with a rate): iterations start on the
 * schedule of k6's constant-/ramping-arrival-rate whatever the answers do, each on a free VU of
 * the pool; with none free and the pool at maxVUs the iteration is dropped and counted. Open-model
 * latency runs from the iteration's scheduled start, so a late client (a blocked event loop) or
 * a stalled server cannot hide the wait (no coordinated omission).
 */
export async function runLoad(target: LoadTarget, options: EngineOptions): Promise<LoadResult> {
  const { profile, mode } = options;
  const spec = workloadPayload(profile, target.workload);
  const rng = options.rng ?? Math.random;
  const stats = new RunStats();
  const outputCheck = checkName(spec.check);
  const timeoutMs = profile.requestTimeoutSeconds * 1000;
  const thinkMs = profile.thinkTimeSeconds * 1000;
  const schedule = scheduleOf(profile.arrival);
  const totalMs = schedule ? schedule.totalMs : totalDurationMs(profile.stages);
  const hardStop = new AbortController();
  // Every VU's in-flight request and think-time pause listens on this one signal: many listeners is by design.
  setMaxListeners(0, hardStop.signal);
  const urls = target.replicaUrls && target.replicaUrls.length > 1 ? target.replicaUrls : [target.baseUrl];
  const pool = openPool(urls, schedule && profile.arrival ? profile.arrival.maxVUs : maxVus(profile.stages));
  const basePath = new URL(target.baseUrl).pathname.replace(/\/+$/, '');
  const invokePath = `${basePath}/v1/functions/${encodeURIComponent(target.function)}:${mode === 'sync' ? 'invoke' : 'enqueue'}`;
  const auth: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  const errors = new Map<string, number>();
  const log = options.log ?? (() => {});

  const noteError = (what: string): void => {
    const seen = errors.get(what) ?? 0;
    errors.set(what, seen + 1);
    if (seen === 0) log(`first occurrence: ${what}`);
  };

  /** `intendedAt` (performance.now() time) is when the open model's schedule wanted this iteration to start. */
  const oneIteration = async (intendedAt?: number): Promise<void> => {
    // Time the iteration waited past its due time (timer lateness, a busy event loop) counts as latency.
    const lateMs = intendedAt === undefined ? 0 : Math.max(0, performance.now() - intendedAt);
    const payload = JSON.stringify({ input: buildInput(spec, rng) });
    const result =
      mode === 'sync'
        ? await exchange(pool, 'POST', invokePath, payload, timeoutMs, hardStop.signal, auth)
        : await enqueueAndWait(pool, basePath, invokePath, payload, timeoutMs, hardStop.signal, auth);
    // A request cut short by the end of the graceful stop is dropped, as k6 drops it.
    if (hardStop.signal.aborted) return;
    const ok = result.status === 200;
    // Like k6's default expected statuses: 2xx/3xx pass; a 4xx/5xx or no answer is a failure.
    const failed = result.status === 0 || result.status >= 400 || (mode === 'async' && !ok);
    stats.recordRequest(result.durationMs + lateMs, failed);
    stats.recordCheck(STATUS_CHECK, ok);
    const outputOk = passesCheck(spec.check, result.body);
    stats.recordCheck(outputCheck, outputOk);
    stats.recordIteration();
    if (!ok) noteError(result.error ?? `HTTP ${result.status} ${describeBody(result.body)}`);
    else if (!outputOk) noteError(`check "${outputCheck}" failed on ${describeBody(result.body)}`);
  };

  const running = new Set<number>();
  let targetVus = 0;
  let lastIterationError: unknown;
  let allStopped: () => void = () => {};
  const stoppedPromise = new Promise<void>((resolve) => (allStopped = resolve));
  let markRampDone: () => void = () => {};
  const rampDonePromise = new Promise<void>((resolve) => (markRampDone = resolve));

  const vuLoop = async (index: number): Promise<void> => {
    while (index < targetVus && !hardStop.signal.aborted) {
      await oneIteration();
      if (index >= targetVus || hardStop.signal.aborted || thinkMs === 0) continue;
      await delay(thinkMs, undefined, { signal: hardStop.signal }).catch(() => {});
    }
  };

  const spawn = (index: number): void => {
    running.add(index);
    stats.setActiveVus(running.size);
    vuLoop(index)
      .catch((error: unknown) => {
        lastIterationError = error;
      })
      .finally(() => {
        running.delete(index);
        stats.setActiveVus(running.size);
        if (rampDone && running.size === 0) allStopped();
      });
  };

  const start = new Date();
  const startedAt = performance.now();
  let rampDone = false;
  const reconcileClosed = (): void => {
    const elapsed = performance.now() - startedAt;
    rampDone = elapsed >= totalMs || (options.signal?.aborted ?? false);
    if (rampDone) markRampDone();
    targetVus = rampDone ? 0 : vusAt(profile.stages, elapsed);
    for (let index = 0; index < targetVus; index++) if (!running.has(index)) spawn(index);
    if (rampDone && running.size === 0) allStopped();
  };

  // Open model: a timer that, each time it fires, starts every iteration due by now (catching up
  // after any lateness) and then sleeps until the next due time.
  let scheduled = 0;
  let allocated = 0;
  let busy = 0;
  let pumpTimer: NodeJS.Timeout | undefined;
  const startOpen = (index: number, arrival: Arrival, plan: Schedule): void => {
    if (busy >= allocated) {
      // k6 grows the pool up to maxVUs; past that the iteration is lost, and counted.
      if (allocated >= arrival.maxVUs) {
        stats.recordDropped();
        return;
      }
      allocated += 1;
    }
    busy += 1;
    stats.setActiveVus(busy);
    oneIteration(startedAt + dueAtMs(plan, index))
      .catch((error: unknown) => {
        lastIterationError = error;
      })
      .finally(() => {
        busy -= 1;
        stats.setActiveVus(busy);
        if (rampDone && busy === 0) allStopped();
      });
  };
  const pump = (): void => {
    const arrival = profile.arrival;
    if (!schedule || !arrival) return;
    const elapsed = performance.now() - startedAt;
    const aborted = options.signal?.aborted ?? false;
    rampDone = elapsed >= totalMs || aborted;
    // A late timer still starts every iteration due before now (the end included): the delay
    // shows in their latency instead of the iterations silently going missing.
    if (!aborted) {
      const due = dueBy(schedule, elapsed);
      while (scheduled < due) startOpen(scheduled++, arrival, schedule);
    }
    if (rampDone) {
      markRampDone();
      if (busy === 0) allStopped();
      return;
    }
    const next = scheduled < schedule.total ? dueAtMs(schedule, scheduled) : totalMs;
    pumpTimer = setTimeout(pump, Math.max(0, Math.min(next - (performance.now() - startedAt), MAX_PUMP_SLEEP_MS)));
  };
  const reconcile = (): void => (schedule ? pump() : reconcileClosed());

  let lastRequests = 0;
  let lastTick = startedAt;
  const progressTick = (): void => {
    const now = performance.now();
    const rps = ((stats.requests - lastRequests) * 1000) / Math.max(now - lastTick, 1);
    lastRequests = stats.requests;
    lastTick = now;
    options.onProgress?.({
      elapsedMs: now - startedAt,
      totalMs,
      vus: schedule ? busy : running.size,
      requests: stats.requests,
      rps,
      p95Ms: stats.percentileMs(95),
      failed: stats.failed,
      ...(schedule ? { dropped: stats.dropped, targetRate: ratePerSecondAt(schedule, now - startedAt) } : {}),
      final: false,
    });
  };

  log(
    `start ${target.function} (${target.runtime}, ${mode}) against ${urls.join(' + ')}: ${
      schedule && profile.arrival
        ? `open model ${JSON.stringify(profile.arrival)}`
        : `${profile.stages.map((s) => `${s.duration}:${s.target}`).join(',')}, think ${profile.thinkTimeSeconds}s`
    }`,
  );
  // An interrupt ends the ramp now, not at the next tick: no VU starts another request after it.
  const onAbort = (): void => {
    hardStop.abort();
    reconcile();
  };
  const rampTimer = schedule ? undefined : setInterval(reconcile, RAMP_TICK_MS);
  if (schedule && profile.arrival) {
    allocated = profile.arrival.preAllocatedVUs;
  }
  const progressTimer = setInterval(progressTick, options.progressIntervalMs ?? 1000);
  reconcile();
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await rampDonePromise;
  } finally {
    clearInterval(rampTimer);
    clearTimeout(pumpTimer);
  }
  // Graceful stop: the last VUs finish their iteration, up to gracefulStopSeconds.
  if (running.size > 0 || busy > 0) {
    const grace = delay(profile.gracefulStopSeconds * 1000, undefined, { ref: false });
    await Promise.race([stoppedPromise, grace]);
    hardStop.abort();
  }
  clearInterval(progressTimer);
  options.signal?.removeEventListener('abort', onAbort);
  const interrupted = options.signal?.aborted ?? false;
  const end = new Date();
  const elapsedMs = performance.now() - startedAt;
  await pool.close().catch(() => pool.destroy());
  if (lastIterationError !== undefined) throw lastIterationError;

  const summary = stats.toSummary(end.getTime() - start.getTime(), {
    function: target.function,
    workload: target.workload,
    runtime: target.runtime,
    engine: 'builtin',
    mode,
    start: start.toISOString(),
    end: end.toISOString(),
    ...(options.thresholds ? { thresholds: options.thresholds } : {}),
    ...(interrupted ? { interrupted: true } : {}),
  });
  // The last report is the summary itself, so the last progress line and the report's table agree.
  const m = summary.metrics;
  options.onProgress?.({
    elapsedMs,
    totalMs,
    vus: 0,
    requests: m.http_reqs.count,
    rps: m.iterations.rate,
    p95Ms: m.http_req_duration['p(95)'],
    failed: m.http_req_failed.passes,
    ...(schedule ? { dropped: stats.dropped, targetRate: (schedule.total * 1000) / Math.max(totalMs, 1) } : {}),
    final: true,
  });
  for (const [what, count] of errors) log(`${count}× ${what}`);
  log(
    `${interrupted ? 'interrupted' : 'end'} ${target.function}: ${stats.requests} requests, ${stats.failed} failed, p95 ${stats.percentileMs(95).toFixed(1)} ms${schedule ? `, ${stats.dropped} dropped` : ''}`,
  );
  return { summary, interrupted, stats, start, end };
}

/**
 * Async mode: enqueue, then follow the execution until it ends; the duration is end to end.
 * The follow-up GETs are long-polls (`waitMs`), each up to the time left (at most the API's
 * maximum), so the answer comes on the terminal transition without sleeping between polls.
 */
async function enqueueAndWait(
  pool: Dispatcher,
  basePath: string,
  enqueuePath: string,
  payload: string,
  timeoutMs: number,
  stop: AbortSignal,
  auth: Record<string, string>,
): Promise<Exchange> {
  const started = performance.now();
  const accepted = await exchange(pool, 'POST', enqueuePath, payload, timeoutMs, stop, auth);
  const id = (accepted.body as { executionId?: unknown } | undefined)?.executionId;
  if (accepted.status !== 202 || typeof id !== 'string') {
    return { ...accepted, status: accepted.status === 202 ? 502 : accepted.status };
  }
  const path = `${basePath}/v1/executions/${encodeURIComponent(id)}`;
  for (;;) {
    const left = Math.floor(timeoutMs - (performance.now() - started));
    if (left <= 0)
      return { status: 0, body: undefined, durationMs: performance.now() - started, error: `execution not finished after ${timeoutMs} ms` };
    const waitMs = Math.min(left, MAX_EXECUTION_WAIT_MS);
    // The server answers by waitMs at the latest; the slack only covers the round trip.
    const polled = await exchange(pool, 'GET', `${path}?waitMs=${waitMs}`, undefined, waitMs + LONG_POLL_SLACK_MS, stop, auth);
    if (stop.aborted) return { status: 0, body: undefined, durationMs: performance.now() - started, error: 'stopped' };
    const state = (polled.body as { status?: unknown } | undefined)?.status;
    if (polled.status !== 200 || (typeof state === 'string' && TERMINAL.has(state))) {
      const durationMs = performance.now() - started;
      if (polled.status !== 200) return { ...polled, durationMs };
      return state === 'success'
        ? { status: 200, body: polled.body, durationMs }
        : {
            status: 502,
            body: polled.body,
            durationMs,
            error: `execution ended ${String(state)}: ${describeBody((polled.body as { error?: unknown }).error)}`,
          };
    }
  }
}

function describeBody(body: unknown): string {
  if (body === undefined) return '(no JSON body)';
  const text = JSON.stringify(body);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
