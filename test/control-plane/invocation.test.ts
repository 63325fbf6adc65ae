/**
 * Queue, admission, retry, timeout and idempotency behaviour (docs/design.md §3), through the real
 * control plane against the steerable fixture runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, finalExecution, removeDir, startControlPlane, until, untilMetric, type RunningControlPlane } from './helpers.js';

let fixture: FixtureRuntime;
let cp: RunningControlPlane;
let api: string;

const register = async (name: string, extra: Record<string, unknown> = {}, base = api, endpointUrl = fixture.url) => {
  const answer = await call(base, 'POST', '/v1/functions', { name, endpointUrl, ...extra });
  expect(answer.status, answer.text).toBe(201);
};
const invoke = (name: string, input: unknown, headers: Record<string, string> = {}, base = api) =>
  call(base, 'POST', `/v1/functions/${name}:invoke`, { input }, headers);
const enqueue = (name: string, input: unknown, headers: Record<string, string> = {}, base = api) =>
  call(base, 'POST', `/v1/functions/${name}:enqueue`, { input }, headers);
const attemptsSeen = (executionId: string) => fixture.requests.filter((r) => r.executionId === executionId).length;
/** Calls of `fn` waiting in the control plane's queue, as it reports them itself. */
const untilQueued = (fn: string, depth: number, management = cp.managementUrl) => untilMetric(management, METRICS.queueDepth, fn, depth);

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  cp = await startControlPlane();
  api = cp.apiUrl;
});

afterAll(async () => {
  await cp?.stop();
  await fixture?.close();
  if (cp) removeDir(cp.stateDir);
});

describe('dispatch', () => {
  it('forwards X-Execution-Id, X-Trace-Id, Idempotency-Key and X-Dispatch-Attempt', async () => {
    await register('headers');
    const answer = await invoke('headers', { echo: 'hi' }, { 'x-trace-id': 'trace-123', 'idempotency-key': 'key-abc' });
    expect(answer.status).toBe(200);
    expect(answer.body.output).toEqual({
      echo: 'hi',
      executionId: answer.body.executionId,
      attempt: 1,
      traceId: 'trace-123',
      idempotencyKey: 'key-abc',
    });
  });

  it('never runs more than `concurrency` invocations of a function at once', async () => {
    await register('limited', { concurrency: 2 });
    fixture.stats.maxInFlight = 0;
    const calls = Array.from({ length: 6 }, () => invoke('limited', { gate: 'limited' }));
    // Held at the runtime until all six are in: two running, four queued in the control plane.
    await fixture.received(onGate('limited'), 2);
    await untilQueued('limited', 4);
    fixture.openGate('limited');
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fixture.stats.maxInFlight).toBe(2);
  });

  it('a saturated function does not delay another one', async () => {
    await register('slowpoke', { concurrency: 1 });
    await register('quick');
    const slow = [invoke('slowpoke', { gate: 'slowpoke' }), invoke('slowpoke', { gate: 'slowpoke' })];
    await fixture.received(onGate('slowpoke'));
    await untilQueued('slowpoke', 1);
    // slowpoke cannot move until its gate opens, so an answer now means quick never waited on it.
    expect((await invoke('quick', { n: 1 })).status).toBe(200);
    expect(fixture.requests.filter(onGate('slowpoke'))).toHaveLength(1);
    fixture.openGate('slowpoke');
    await Promise.all(slow);
  });
});

describe('sync and async lanes', () => {
  it('sync calls go ahead of an async backlog, and the async backlog still completes', async () => {
    await register('lanes', { concurrency: 1 });
    const blocker = invoke('lanes', { gate: 'lanes' });
    await fixture.received(onGate('lanes'));
    const queued = await Promise.all(Array.from({ length: 3 }, (_, i) => enqueue('lanes', { echo: `async-${i}` })));
    const pending = invoke('lanes', { echo: 'sync' });
    await untilQueued('lanes', 4);
    fixture.openGate('lanes');
    const sync = await pending;
    expect(sync.status).toBe(200);
    const order = fixture.requests
      .filter((r) => (r.body as { input?: { echo?: string } }).input?.echo?.match(/^(async-\d|sync)$/))
      .map((r) => (r.body as { input: { echo: string } }).input.echo);
    expect(order[0]).toBe('sync');
    for (const q of queued) expect((await finalExecution(api, q.body.executionId)).status).toBe('success');
    await blocker;
  });
});

describe('async is never starved', () => {
  it('after a burst of sync picks, a waiting async job goes next', async () => {
    await register('fair', { concurrency: 1 });
    const blocker = invoke('fair', { gate: 'fair' });
    await fixture.received(onGate('fair'));
    const queued = await Promise.all([enqueue('fair', { echo: 'fair-async-0' }), enqueue('fair', { echo: 'fair-async-1' })]);
    const syncs = Array.from({ length: 10 }, (_, i) => invoke('fair', { echo: `fair-sync-${i}` }));
    await untilQueued('fair', 12);
    fixture.openGate('fair');
    await Promise.all(syncs);
    for (const q of queued) await finalExecution(api, q.body.executionId);
    await blocker;
    const order = fixture.requests
      .map((r) => (r.body as { input?: { echo?: unknown } }).input?.echo)
      .filter((e): e is string => typeof e === 'string' && e.startsWith('fair-'));
    expect(order).toHaveLength(12);
    // Sync first, but the first async job runs after at most 4 sync ones, the second after 4 more.
    expect(order.slice(0, 4).every((e) => e.startsWith('fair-sync'))).toBe(true);
    expect(order[4]).toBe('fair-async-0');
    expect(order.slice(5, 9).every((e) => e.startsWith('fair-sync'))).toBe(true);
    expect(order[9]).toBe('fair-async-1');
  });
});

describe('timeouts', () => {
  it('the spec timeout ends a slow call with 504 and aborts the upstream request', async () => {
    await register('slow', { timeoutMs: 200, maxRetries: 0 });
    const abortedBefore = fixture.stats.aborted;
    // The runtime never answers (its gate stays shut), so only the deadline can end the call.
    const answer = await invoke('slow', { gate: 'never' });
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ status: 'timeout', error: 'TIMEOUT' });
    await until(() => fixture.stats.aborted > abortedBefore || undefined, 10_000, 'the upstream request to be aborted');
    const execution = await call(api, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body).toMatchObject({ status: 'timeout', error: { error: 'TIMEOUT' } });
  });

  it('X-Timeout-Ms shortens the deadline but never extends the spec timeout', async () => {
    // Which deadline ended a call is only visible in when it ended. The runtime never answers,
    // and the three deadlines (100 ms, 3 s, 60 s) are far enough apart that a loaded machine
    // cannot blur them: a late answer only ever comes later, so the lower bound is exact.
    const specTimeoutMs = 3000;
    await register('capped', { timeoutMs: specTimeoutMs });
    let started = Date.now();
    expect((await invoke('capped', { gate: 'never' }, { 'x-timeout-ms': '100' })).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(specTimeoutMs - 100);
    started = Date.now();
    expect((await invoke('capped', { gate: 'never' }, { 'x-timeout-ms': '60000' })).status).toBe(504);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(specTimeoutMs - 5);
    expect(elapsed).toBeLessThan(20_000);
  });

  it('a sync call whose deadline passes while queued ends as 504 without reaching the runtime', async () => {
    await register('queued-deadline', { concurrency: 1 });
    const blocker = invoke('queued-deadline', { gate: 'queued-deadline' });
    await fixture.received(onGate('queued-deadline'));
    const answer = await invoke('queued-deadline', { echo: 'never' }, { 'x-timeout-ms': '150' });
    expect(answer.status).toBe(504);
    expect(attemptsSeen(answer.body.executionId)).toBe(0);
    fixture.openGate('queued-deadline');
    await blocker;
  });
});

describe('retries', () => {
  it('async: a runtime 5xx is retried with back-off until it succeeds', async () => {
    await register('flaky', { maxRetries: 3 });
    const queued = await enqueue('flaky', { failAttempts: 2 });
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'success', attempts: 3 });
    expect(fixture.requests.filter((r) => r.executionId === queued.body.executionId).map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it('async: maxRetries counts retries after the first attempt; then the execution ends in error', async () => {
    await register('broken', { maxRetries: 2 });
    const queued = await enqueue('broken', { failAttempts: 99 });
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'error', attempts: 3, error: { error: 'FUNCTION_ERROR' } });
  });

  it("async: the function's own 4xx is never retried", async () => {
    await register('picky', { maxRetries: 3 });
    const queued = await enqueue('picky', { status: 400 });
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'error', attempts: 1, error: { error: 'INVALID_INPUT' } });
  });

  it('async: a timeout is retried and ends as timeout', async () => {
    await register('sleepy', { maxRetries: 1, timeoutMs: 150 });
    const queued = await enqueue('sleepy', { gate: 'never' });
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'timeout', attempts: 2 });
  });

  it('sync: a runtime 5xx is not retried', async () => {
    await register('sync-flaky', { maxRetries: 3 });
    const answer = await invoke('sync-flaky', { failAttempts: 1 });
    expect(answer.status).toBe(502);
    expect(attemptsSeen(answer.body.executionId)).toBe(1);
  });

  it('sync: a connection dropped after the request was sent is not retried (the handler may have run), 502', async () => {
    await register('crashy', { maxRetries: 2 });
    const answer = await invoke('crashy', { crash: true });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ status: 'error', error: 'FUNCTION_ERROR' });
    const execution = await call(api, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body.attempts).toBe(1);
  });

  it('sync: an unreachable runtime is 502 after the retries', async () => {
    await register('nowhere', { maxRetries: 1 }, api, 'http://127.0.0.1:9');
    const answer = await invoke('nowhere', 1);
    expect(answer.status).toBe(502);
    expect(answer.body.message).toMatch(/unreachable/);
  });
});

describe('idempotency keys', () => {
  it('sync: the same key returns the same execution and result without running again', async () => {
    await register('idem');
    const first = await invoke('idem', { echo: 'once' }, { 'idempotency-key': 'k-1' });
    const second = await invoke('idem', { echo: 'twice?' }, { 'idempotency-key': 'k-1' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(attemptsSeen(first.body.executionId)).toBe(1);
    const other = await invoke('idem', { echo: 'other' }, { 'idempotency-key': 'k-2' });
    expect(other.body.executionId).not.toBe(first.body.executionId);
  });

  it('sync: concurrent duplicates wait for the one execution', async () => {
    const [a, b] = await Promise.all([
      invoke('idem', { sleepMs: 200 }, { 'idempotency-key': 'k-concurrent' }),
      invoke('idem', { sleepMs: 200 }, { 'idempotency-key': 'k-concurrent' }),
    ]);
    expect(a.status).toBe(200);
    expect(b.body.executionId).toBe(a.body.executionId);
    expect(attemptsSeen(a.body.executionId)).toBe(1);
  });

  it('async: the same key returns the same execution id', async () => {
    const first = await enqueue('idem', { echo: 1 }, { 'idempotency-key': 'k-async' });
    const second = await enqueue('idem', { echo: 1 }, { 'idempotency-key': 'k-async' });
    expect(first.status).toBe(202);
    expect(second.body.executionId).toBe(first.body.executionId);
    await finalExecution(api, first.body.executionId);
    expect(attemptsSeen(first.body.executionId)).toBe(1);
  });

  it('keys are per function', async () => {
    await register('idem-b');
    const a = await invoke('idem', 1, { 'idempotency-key': 'shared' });
    const b = await invoke('idem-b', 1, { 'idempotency-key': 'shared' });
    expect(b.body.executionId).not.toBe(a.body.executionId);
  });
});

describe('delete while queued', () => {
  it('ends still-queued executions as error FUNCTION_DELETED', async () => {
    await register('short-lived', { concurrency: 1 });
    const running = invoke('short-lived', { gate: 'short-lived' });
    await fixture.received(onGate('short-lived'));
    const asyncQueued = await enqueue('short-lived', { echo: 'queued' });
    const syncQueued = invoke('short-lived', { echo: 'queued-sync' });
    await untilQueued('short-lived', 2);
    expect((await call(api, 'DELETE', '/v1/functions/short-lived')).status).toBe(204);
    const sync = await syncQueued;
    expect(sync.status).toBe(502);
    expect(sync.body).toMatchObject({ status: 'error', error: 'FUNCTION_DELETED' });
    const execution = await finalExecution(api, asyncQueued.body.executionId);
    expect(execution).toMatchObject({ status: 'error', error: { error: 'FUNCTION_DELETED' } });
    fixture.openGate('short-lived');
    expect((await running).status).toBe(200);
  });
});

describe('delete while running', () => {
  it('a running async attempt that fails after its function was deleted is not retried', async () => {
    await register('vanishing', { maxRetries: 3 });
    const queued = await enqueue('vanishing', { gate: 'vanishing', failAttempts: 9 });
    await fixture.received(onGate('vanishing'));
    expect((await call(api, 'DELETE', '/v1/functions/vanishing')).status).toBe(204);
    fixture.openGate('vanishing');
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'error', attempts: 1, error: { error: 'FUNCTION_ERROR' } });
  });
});

describe('admission control', () => {
  let admission: RunningControlPlane;
  beforeAll(async () => {
    admission = await startControlPlane({
      SYNC_QUEUE_MAX_ESTIMATED_WAIT_MS: '100',
      SYNC_QUEUE_MAX_QUEUE_WAIT_MS: '250',
      SYNC_QUEUE_RETRY_AFTER_SECONDS: '7',
    });
  });
  afterAll(async () => {
    await admission?.stop();
    if (admission) removeDir(admission.stateDir);
  });

  it('admits queued calls when there is no history yet (a new function has no service time to estimate from)', async () => {
    await register('fresh', { concurrency: 1 }, admission.apiUrl);
    const first = invoke('fresh', { gate: 'fresh' }, {}, admission.apiUrl);
    await fixture.received(onGate('fresh'));
    // The second call must queue behind the first, with no service time measured yet.
    const second = invoke('fresh', { echo: 'second' }, {}, admission.apiUrl);
    await untilQueued('fresh', 1, admission.managementUrl);
    fixture.openGate('fresh');
    const answers = await Promise.all([first, second]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  });

  it('rejects with 429 est_wait once the measured service time predicts too long a wait', async () => {
    await register('measured', { concurrency: 1 }, admission.apiUrl);
    expect((await invoke('measured', { sleepMs: 200 }, {}, admission.apiUrl)).status).toBe(200);
    const running = invoke('measured', { gate: 'measured' }, {}, admission.apiUrl);
    await fixture.received(onGate('measured'));
    const rejected = await invoke('measured', { echo: 1 }, {}, admission.apiUrl);
    expect(rejected.status).toBe(429);
    expect(rejected.body).toMatchObject({ error: 'QUEUE_FULL', details: { reason: 'est_wait' } });
    expect(rejected.headers.get('x-queue-reject-reason')).toBe('est_wait');
    expect(rejected.headers.get('retry-after')).toBe('7');
    // Async work is not subject to the wait estimate, only to the queue bound.
    expect((await enqueue('measured', { echo: 2 }, {}, admission.apiUrl)).status).toBe(202);
    fixture.openGate('measured');
    expect((await running).status).toBe(200);
  });

  it('a sync call waiting longer than SYNC_QUEUE_MAX_QUEUE_WAIT_MS gets 429 timeout', async () => {
    await register('long-wait', { concurrency: 1 }, admission.apiUrl);
    const running = invoke('long-wait', { gate: 'long-wait' }, {}, admission.apiUrl);
    await fixture.received(onGate('long-wait'));
    // The call ahead never ends on its own, so only the queue-wait limit can answer this one.
    const waited = await invoke('long-wait', { echo: 1 }, {}, admission.apiUrl);
    expect(waited.status).toBe(429);
    expect(waited.headers.get('x-queue-reject-reason')).toBe('timeout');
    fixture.openGate('long-wait');
    expect((await running).status).toBe(200);
  });
});
