/**
 * Queue, admission, retry, timeout and idempotency behaviour (DESIGN.md §4), through the real
 * control plane against the steerable fixture runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, finalExecution, removeDir, sleep, startControlPlane, until, type RunningControlPlane } from './helpers.js';

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
    const answers = await Promise.all(Array.from({ length: 6 }, () => invoke('limited', { sleepMs: 150 })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fixture.stats.maxInFlight).toBe(2);
  });

  it('a saturated function does not delay another one', async () => {
    await register('slowpoke', { concurrency: 1 });
    await register('quick');
    const slow = [invoke('slowpoke', { sleepMs: 1500 }), invoke('slowpoke', { sleepMs: 1500 })];
    await sleep(100);
    const started = Date.now();
    expect((await invoke('quick', { n: 1 })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    await Promise.all(slow);
  });
});

describe('sync and async lanes', () => {
  it('sync calls go ahead of an async backlog, and the async backlog still completes', async () => {
    await register('lanes', { concurrency: 1 });
    const blocker = invoke('lanes', { sleepMs: 1000 });
    await sleep(100);
    const queued = await Promise.all(Array.from({ length: 3 }, (_, i) => enqueue('lanes', { echo: `async-${i}` })));
    const sync = await invoke('lanes', { echo: 'sync' });
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
    const blocker = invoke('fair', { sleepMs: 1000 });
    await sleep(100);
    const queued = await Promise.all([enqueue('fair', { echo: 'fair-async-0' }), enqueue('fair', { echo: 'fair-async-1' })]);
    const syncs = Array.from({ length: 10 }, (_, i) => invoke('fair', { echo: `fair-sync-${i}` }));
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
    const started = Date.now();
    const answer = await invoke('slow', { sleepMs: 2000 });
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ status: 'timeout', error: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1500);
    await until(() => fixture.stats.aborted > abortedBefore || undefined, 3000, 'the upstream request to be aborted');
    const execution = await call(api, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body).toMatchObject({ status: 'timeout', error: { error: 'TIMEOUT' } });
  });

  it('X-Timeout-Ms shortens the deadline but never extends the spec timeout', async () => {
    await register('capped', { timeoutMs: 1500 });
    let started = Date.now();
    expect((await invoke('capped', { sleepMs: 5000 }, { 'x-timeout-ms': '100' })).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1400);
    started = Date.now();
    expect((await invoke('capped', { sleepMs: 5000 }, { 'x-timeout-ms': '60000' })).status).toBe(504);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(4000);
  });

  it('a sync call whose deadline passes while queued ends as 504 without reaching the runtime', async () => {
    await register('queued-deadline', { concurrency: 1 });
    const blocker = invoke('queued-deadline', { sleepMs: 1000 });
    await sleep(100);
    const answer = await invoke('queued-deadline', { echo: 'never' }, { 'x-timeout-ms': '150' });
    expect(answer.status).toBe(504);
    expect(attemptsSeen(answer.body.executionId)).toBe(0);
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
    const queued = await enqueue('sleepy', { sleepMs: 1000 });
    const done = await finalExecution(api, queued.body.executionId);
    expect(done).toMatchObject({ status: 'timeout', attempts: 2 });
  });

  it('sync: a runtime 5xx is not retried', async () => {
    await register('sync-flaky', { maxRetries: 3 });
    const answer = await invoke('sync-flaky', { failAttempts: 1 });
    expect(answer.status).toBe(502);
    expect(attemptsSeen(answer.body.executionId)).toBe(1);
  });

  it('sync: connection failures are retried within the deadline, then 502', async () => {
    await register('crashy', { maxRetries: 2 });
    const answer = await invoke('crashy', { crash: true });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ status: 'error', error: 'FUNCTION_ERROR' });
    const execution = await call(api, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body.attempts).toBe(3);
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
    const running = invoke('short-lived', { sleepMs: 1200 });
    await sleep(100);
    const asyncQueued = await enqueue('short-lived', { echo: 'queued' });
    const syncQueued = invoke('short-lived', { echo: 'queued-sync' });
    await sleep(150);
    expect((await call(api, 'DELETE', '/v1/functions/short-lived')).status).toBe(204);
    const sync = await syncQueued;
    expect(sync.status).toBe(502);
    expect(sync.body).toMatchObject({ status: 'error', error: 'FUNCTION_DELETED' });
    const execution = await finalExecution(api, asyncQueued.body.executionId);
    expect(execution).toMatchObject({ status: 'error', error: { error: 'FUNCTION_DELETED' } });
    expect((await running).status).toBe(200);
  });
});

describe('delete while running', () => {
  it('a running async attempt that fails after its function was deleted is not retried', async () => {
    await register('vanishing', { maxRetries: 3 });
    const queued = await enqueue('vanishing', { sleepMs: 400, failAttempts: 9 });
    await sleep(150);
    expect((await call(api, 'DELETE', '/v1/functions/vanishing')).status).toBe(204);
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

  it('admits queued calls when there is no history yet (the original rejected them)', async () => {
    await register('fresh', { concurrency: 1 }, admission.apiUrl);
    const answers = await Promise.all([invoke('fresh', { sleepMs: 50 }, {}, admission.apiUrl), invoke('fresh', { sleepMs: 50 }, {}, admission.apiUrl)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  });

  it('rejects with 429 est_wait once the measured service time predicts too long a wait', async () => {
    await register('measured', { concurrency: 1 }, admission.apiUrl);
    expect((await invoke('measured', { sleepMs: 200 }, {}, admission.apiUrl)).status).toBe(200);
    const running = invoke('measured', { sleepMs: 600 }, {}, admission.apiUrl);
    await sleep(150);
    const rejected = await invoke('measured', { echo: 1 }, {}, admission.apiUrl);
    expect(rejected.status).toBe(429);
    expect(rejected.body).toMatchObject({ error: 'QUEUE_FULL', details: { reason: 'est_wait' } });
    expect(rejected.headers.get('x-queue-reject-reason')).toBe('est_wait');
    expect(rejected.headers.get('retry-after')).toBe('7');
    // Async work is not subject to the wait estimate, only to the queue bound.
    expect((await enqueue('measured', { echo: 2 }, {}, admission.apiUrl)).status).toBe(202);
    expect((await running).status).toBe(200);
  });

  it('a sync call waiting longer than SYNC_QUEUE_MAX_QUEUE_WAIT_MS gets 429 timeout', async () => {
    await register('long-wait', { concurrency: 1 }, admission.apiUrl);
    const running = invoke('long-wait', { sleepMs: 1500 }, {}, admission.apiUrl);
    await sleep(150);
    const started = Date.now();
    const waited = await invoke('long-wait', { echo: 1 }, {}, admission.apiUrl);
    expect(waited.status).toBe(429);
    expect(waited.headers.get('x-queue-reject-reason')).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1200);
    expect((await running).status).toBe(200);
  });
});
