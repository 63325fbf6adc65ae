/**
 * Long-poll on GET /v1/executions/{id}?waitMs=N: answers on the terminal transition (no polling),
 * or with the current state when waitMs elapses; waiters vanish on timeout, client hang-up and
 * shutdown. The control plane runs in process so the tests can count live waiters.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../control-plane/src/config.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/src/control-plane.js';
import { ExecutionWaits } from '../../control-plane/src/invocation/execution-waits.js';
import { ExecutionStore } from '../../control-plane/src/invocation/executions.js';
import { ApiClient } from '../../src/api-client/client.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, tempStateDir, until } from './helpers.js';

const silent = pino({ level: 'silent' });
let fixture: FixtureRuntime;
const dirs: string[] = [];

async function startInProcess(env: Record<string, string> = {}): Promise<{ cp: ControlPlane; api: string }> {
  const dir = tempStateDir();
  dirs.push(dir);
  const config = loadConfig({
    NANOFAAS_PORT: '0',
    NANOFAAS_STATE_DIR: dir,
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
    NANOFAAS_LOG_LEVEL: 'silent',
    ...env,
  });
  const cp = await createControlPlane(config, silent);
  const { apiUrl } = await cp.start();
  return { cp, api: apiUrl };
}

let cp: ControlPlane;
let api: string;

const register = async (base: string, name: string, extra: Record<string, unknown> = {}) => {
  const answer = await call(base, 'POST', '/v1/functions', { name, endpointUrl: fixture.url, ...extra });
  expect(answer.status, answer.text).toBe(201);
};
const enqueue = async (base: string, name: string, input: unknown): Promise<string> => {
  const answer = await call(base, 'POST', `/v1/functions/${name}:enqueue`, { input });
  expect(answer.status, answer.text).toBe(202);
  return answer.body.executionId as string;
};
const timed = async <T>(work: Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  const value = await work;
  return { value, ms: performance.now() - t0 };
};
/** A promise plus whether it has settled yet: lets a test check the order of two events. */
const watched = <T>(work: Promise<T>) => {
  const state = { settled: false, promise: work };
  void work.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
};
/** Resolves with 'pending' if `work` has not settled by the next turn of the event loop. */
const settledAtOnce = <T>(work: Promise<T>) =>
  Promise.race([work, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  ({ cp, api } = await startInProcess());
  await register(api, 'slow');
  await register(api, 'single', { concurrency: 1 });
});

afterAll(async () => {
  await cp?.close();
  await fixture?.close();
  for (const dir of dirs) removeDir(dir);
});

describe('GET /v1/executions/{id}?waitMs', () => {
  it('answers as soon as a slow async invocation ends, not when waitMs elapses', async () => {
    const id = await enqueue(api, 'slow', { gate: 'ends' });
    await fixture.received(onGate('ends'));
    const poll = watched(timed(call(api, 'GET', `/v1/executions/${id}?waitMs=30000`)));
    await until(() => cp.invoker.waits.size === 1, 5000, 'the long-poll to be parked');
    // Held while the execution runs: nothing answered it before the runtime did.
    expect(poll.settled).toBe(false);
    fixture.openGate('ends');
    const { value: answer, ms } = await poll.promise;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ executionId: id, status: 'success', output: { ok: true, input: { gate: 'ends' } } });
    expect(answer.body.finishedAt).not.toBeNull();
    // Answered on the transition, far short of the 30 s waitMs.
    expect(ms).toBeLessThan(15_000);
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(id)?.listeners).toBeUndefined();
  });

  it('answers with the current state when waitMs elapses first (running, queued)', async () => {
    // Held at the runtime: only waitMs elapsing can answer these polls.
    const running = await enqueue(api, 'single', { gate: 'current-state' });
    await fixture.received(onGate('current-state'));
    expect(cp.invoker.executions.get(running)?.status).toBe('running');
    const queued = await enqueue(api, 'single', { echo: 'behind' });
    const [r, q] = await Promise.all([
      timed(call(api, 'GET', `/v1/executions/${running}?waitMs=250`)),
      timed(call(api, 'GET', `/v1/executions/${queued}?waitMs=250`)),
    ]);
    expect(r.value.status).toBe(200);
    expect(r.value.body).toMatchObject({ executionId: running, status: 'running', finishedAt: null });
    expect(q.value.status).toBe(200);
    expect(q.value.body).toMatchObject({ executionId: queued, status: 'queued', startedAt: null });
    for (const { ms } of [r, q]) expect(ms).toBeGreaterThanOrEqual(245);
    // The timers went with the waiters: nothing stays attached to the executions.
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(running)?.listeners).toBeUndefined();
    expect(cp.invoker.executions.get(queued)?.listeners).toBeUndefined();
    fixture.openGate('current-state');
    const done = await call(api, 'GET', `/v1/executions/${queued}?waitMs=10000`);
    expect(done.body).toMatchObject({ status: 'success', output: { echo: 'behind', executionId: queued } });
  });

  it('without waitMs, with waitMs=0, or for an ended execution it answers at once', async () => {
    // Held at the runtime until the end: an answer while it is held is one that did not wait.
    const id = await enqueue(api, 'slow', { gate: 'at-once' });
    for (const query of ['', '?waitMs=0']) {
      const value = await call(api, 'GET', `/v1/executions/${id}${query}`);
      expect(value.status).toBe(200);
      expect(['queued', 'running']).toContain(value.body.status);
      expect(cp.invoker.waits.size).toBe(0);
    }
    fixture.openGate('at-once');
    await call(api, 'GET', `/v1/executions/${id}?waitMs=10000`);
    const { value, ms } = await timed(call(api, 'GET', `/v1/executions/${id}?waitMs=30000`));
    expect(value.body.status).toBe('success');
    // Far short of the 30 s it would have held a still-running execution.
    expect(ms).toBeLessThan(15_000);
  });

  it('rejects a waitMs that is not an integer in 0..30000 with 400 VALIDATION_ERROR', async () => {
    const id = await enqueue(api, 'slow', { sleepMs: 1 });
    for (const bad of ['-1', '30001', 'abc', '1.5', '', '1e3', '99999999999', '5&waitMs=6']) {
      const answer = await call(api, 'GET', `/v1/executions/${id}?waitMs=${bad}`);
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error, bad).toBe('VALIDATION_ERROR');
      expect(typeof answer.body.message, bad).toBe('string');
      expect(answer.body.message, bad).toMatch(/waitMs/);
    }
    expect(cp.invoker.waits.size).toBe(0);
  });

  it('answers 404 EXECUTION_NOT_FOUND at once for an unknown id', async () => {
    const { value, ms } = await timed(call(api, 'GET', '/v1/executions/no-such-execution?waitMs=30000'));
    expect(value.status).toBe(404);
    expect(value.body).toMatchObject({ error: 'EXECUTION_NOT_FOUND' });
    // Far short of the 30 s it would have waited.
    expect(ms).toBeLessThan(15_000);
    expect(cp.invoker.waits.size).toBe(0);
  });

  it('a client that hangs up leaves no waiter behind; the others still get the result', async () => {
    const id = await enqueue(api, 'slow', { gate: 'hang-up' });
    const hangUp = new AbortController();
    const abandoned = fetch(`${api}/v1/executions/${id}?waitMs=20000`, { signal: hangUp.signal }).catch((e: Error) => e.name);
    const kept = call(api, 'GET', `/v1/executions/${id}?waitMs=20000`);
    await until(() => cp.invoker.waits.size === 2, 5000, 'two waiters');
    expect(cp.invoker.executions.get(id)?.listeners).toHaveLength(2);
    hangUp.abort();
    expect(await abandoned).toBe('AbortError');
    await until(() => cp.invoker.waits.size === 1, 10_000, 'the abandoned waiter to go');
    expect(cp.invoker.executions.get(id)?.listeners).toHaveLength(1);
    fixture.openGate('hang-up');
    const answer = await kept;
    expect(answer.body).toMatchObject({ executionId: id, status: 'success' });
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(id)?.listeners).toBeUndefined();
  });

  it('is listed in the OpenAPI document as an integer query parameter', async () => {
    const doc = (await call(api, 'GET', '/v1/openapi.json')).body;
    const params = doc.paths['/v1/executions/{id}'].get.parameters as { in: string; name: string; schema: Record<string, unknown> }[];
    expect(params.find((p) => p.in === 'query' && p.name === 'waitMs')?.schema).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: 30000,
    });
  });
});

describe('ApiClient.waitForExecution (nanofaas invoke --async --wait)', () => {
  it('waits on a long-poll held by the server and returns the terminal state', async () => {
    const client = new ApiClient({ baseUrl: api });
    try {
      const id = await enqueue(api, 'slow', { gate: 'client' });
      const waiting = watched(client.waitForExecution(id, 10_000));
      // The client is parked on the server, not sleeping between polls.
      await until(() => cp.invoker.waits.size === 1, 5000, 'the client to long-poll');
      expect(waiting.settled).toBe(false);
      fixture.openGate('client');
      // Success, not WAIT_TIMEOUT: it came from the long-poll before the client's 10 s deadline.
      const value = await waiting.promise;
      expect(value).toMatchObject({ executionId: id, status: 'success', output: { ok: true, input: { gate: 'client' } } });
      expect(cp.invoker.waits.size).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('gives up with WAIT_TIMEOUT at its deadline and leaves no waiter', async () => {
    const client = new ApiClient({ baseUrl: api });
    try {
      // Held at the runtime, so the execution cannot end before the client's deadline.
      const id = await enqueue(api, 'slow', { gate: 'client-deadline' });
      const t0 = performance.now();
      await expect(client.waitForExecution(id, 300)).rejects.toMatchObject({ code: 'WAIT_TIMEOUT' });
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(290);
      // Gives up at its own deadline, not at the 30 s a server may hold a long-poll.
      expect(ms).toBeLessThan(15_000);
      expect(cp.invoker.waits.size).toBe(0);
    } finally {
      fixture.openGate('client-deadline');
      await client.close();
    }
  });
});

describe('shutdown', () => {
  it('releases every waiter: queued ones at once, running ones at the end of the grace period', async () => {
    const own = await startInProcess({ NANOFAAS_SHUTDOWN_GRACE_MS: '300' });
    try {
      await register(own.api, 'stuck', { concurrency: 1 });
      // Never answered by the runtime: only the end of the 300 ms grace period can end it.
      const running = await enqueue(own.api, 'stuck', { gate: 'never' });
      await fixture.received(onGate('never'));
      const queued = await enqueue(own.api, 'stuck', { echo: 'never' });
      const polls = [running, queued].map((id) => timed(call(own.api, 'GET', `/v1/executions/${id}?waitMs=30000`)));
      await until(() => own.cp.invoker.waits.size === 2, 5000, 'two waiters');
      const closed = timed(own.cp.close());
      const [r, q] = await Promise.all(polls);
      expect(r!.value.status).toBe(200);
      expect(r!.value.body).toMatchObject({ executionId: running, status: 'error', error: { error: 'SHUTTING_DOWN' } });
      expect(q!.value.status).toBe(200);
      expect(q!.value.body).toMatchObject({ executionId: queued, status: 'error', error: { error: 'SHUTTING_DOWN' } });
      // The configured 300 ms grace, not the 10 s default.
      expect((await closed).ms).toBeLessThan(8000);
      expect(own.cp.invoker.waits.size).toBe(0);
    } finally {
      await own.cp.close();
    }
  });

  it('closing the waits answers a waiter whose execution never ends, and later waits return at once', async () => {
    const store = new ExecutionStore({ ttlMs: 60_000, maxRecords: 10 });
    const waits = new ExecutionWaits(store);
    const execution = store.create('orphan');
    const pending = waits.wait(execution, 30_000);
    expect(waits.size).toBe(1);
    expect(execution.listeners).toHaveLength(1);
    waits.close();
    expect((await pending).status).toBe('queued');
    expect(waits.size).toBe(0);
    expect(execution.listeners).toBeUndefined();
    // At once: settled before the event loop even turns, no timer involved.
    expect(await settledAtOnce(waits.wait(execution, 30_000))).toBe(execution);
    store.close();
  });
});
