import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'undici';
import { MAX_EXECUTION_WAIT_MS } from '@nanofaas/control-plane/contracts';
import { exchange, openPool, type Exchange } from './http.js';
import { buildInput, checkName, passesCheck, STATUS_CHECK, workloadPayload, type Rng } from './payload.js';
import { totalDurationMs, type LoadProfile, type Thresholds } from './profile.js';
import { maxVus, vusAt } from './ramp.js';
import { RunStats } from './stats.js';
import type { Summary } from './summary.js';

export type LoadMode = 'sync' | 'async';

export interface LoadTarget {
  baseUrl: string;
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

/**
 * The built-in closed-model engine: each VU sends a request, waits for the answer, checks it,
 * thinks, and repeats; the number of VUs follows the profile's ramp like k6's ramping-vus.
 */
export async function runLoad(target: LoadTarget, options: EngineOptions): Promise<LoadResult> {
  const { profile, mode } = options;
  const spec = workloadPayload(profile, target.workload);
  const rng = options.rng ?? Math.random;
  const stats = new RunStats();
  const outputCheck = checkName(spec.check);
  const timeoutMs = profile.requestTimeoutSeconds * 1000;
  const thinkMs = profile.thinkTimeSeconds * 1000;
  const totalMs = totalDurationMs(profile.stages);
  const hardStop = new AbortController();
  // Every VU's in-flight request and think-time pause listens on this one signal: many listeners is by design.
  setMaxListeners(0, hardStop.signal);
  const pool = openPool(target.baseUrl, maxVus(profile.stages));
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

  const oneIteration = async (): Promise<void> => {
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
    stats.recordRequest(result.durationMs, failed);
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
  const reconcile = (): void => {
    const elapsed = performance.now() - startedAt;
    rampDone = elapsed >= totalMs || (options.signal?.aborted ?? false);
    if (rampDone) markRampDone();
    targetVus = rampDone ? 0 : vusAt(profile.stages, elapsed);
    for (let index = 0; index < targetVus; index++) if (!running.has(index)) spawn(index);
    if (rampDone && running.size === 0) allStopped();
  };

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
      vus: running.size,
      requests: stats.requests,
      rps,
      p95Ms: stats.percentileMs(95),
      failed: stats.failed,
      final: false,
    });
  };

  log(
    `start ${target.function} (${target.runtime}, ${mode}) against ${target.baseUrl}: ${profile.stages.map((s) => `${s.duration}:${s.target}`).join(',')}, think ${profile.thinkTimeSeconds}s`,
  );
  // An interrupt ends the ramp now, not at the next tick: no VU starts another request after it.
  const onAbort = (): void => {
    hardStop.abort();
    reconcile();
  };
  const rampTimer = setInterval(reconcile, RAMP_TICK_MS);
  const progressTimer = setInterval(progressTick, options.progressIntervalMs ?? 1000);
  reconcile();
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await rampDonePromise;
  } finally {
    clearInterval(rampTimer);
  }
  // Graceful stop: the last VUs finish their iteration, up to gracefulStopSeconds.
  if (running.size > 0) {
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
    final: true,
  });
  for (const [what, count] of errors) log(`${count}× ${what}`);
  log(
    `${interrupted ? 'interrupted' : 'end'} ${target.function}: ${stats.requests} requests, ${stats.failed} failed, p95 ${stats.percentileMs(95).toFixed(1)} ms`,
  );
  return { summary, interrupted, stats, start, end };
}

/**
 * Async mode: enqueue, then follow the execution until it ends; the duration is end to end.
 * The follow-up GETs are long-polls (`waitMs`), each up to the time left (at most the API's
 * maximum), so the answer comes on the terminal transition without sleeping between polls.
 */
async function enqueueAndWait(
  pool: Pool,
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
