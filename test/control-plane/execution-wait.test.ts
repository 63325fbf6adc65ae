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
import { startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, tempStateDir, until } from './helpers.js';

const silent = pino({ level: 'silent' });
let fixture: FixtureRuntime;
const dirs: string[] = [];

async function startInProcess(env: Record<string, string> = {}): Promise<{ cp: ControlPlane; api: string }> {
  const dir = tempStateDir();
  dirs.push(dir);
  const config = loadConfig({ NANOFAAS_PORT: '0', NANOFAAS_STATE_DIR: dir, NANOFAAS_WORKLOAD_BACKEND: 'pool', NANOFAAS_LOG_LEVEL: 'silent', ...env });
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
    const t0 = performance.now();
    const id = await enqueue(api, 'slow', { sleepMs: 400 });
    const answer = await call(api, 'GET', `/v1/executions/${id}?waitMs=5000`);
    const ms = performance.now() - t0;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ executionId: id, status: 'success', output: { ok: true, input: { sleepMs: 400 } } });
    expect(answer.body.finishedAt).not.toBeNull();
    // At least the fixture's delay (timers may fire a hair early), well short of waitMs.
    expect(ms).toBeGreaterThanOrEqual(395);
    expect(ms).toBeLessThan(2500);
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(id)?.listeners).toBeUndefined();
  });

  it('answers with the current state when waitMs elapses first (running, queued)', async () => {
    const running = await enqueue(api, 'single', { sleepMs: 1500 });
    await until(() => cp.invoker.executions.get(running)?.status === 'running', 5000, 'the first execution to start');
    const queued = await enqueue(api, 'single', { echo: 'behind' });
    const [r, q] = await Promise.all([
      timed(call(api, 'GET', `/v1/executions/${running}?waitMs=250`)),
      timed(call(api, 'GET', `/v1/executions/${queued}?waitMs=250`)),
    ]);
    expect(r.value.status).toBe(200);
    expect(r.value.body).toMatchObject({ executionId: running, status: 'running', finishedAt: null });
    expect(q.value.status).toBe(200);
    expect(q.value.body).toMatchObject({ executionId: queued, status: 'queued', startedAt: null });
    for (const { ms } of [r, q]) {
      expect(ms).toBeGreaterThanOrEqual(245);
      expect(ms).toBeLessThan(1400);
    }
    // The timers went with the waiters: nothing stays attached to the executions.
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(running)?.listeners).toBeUndefined();
    expect(cp.invoker.executions.get(queued)?.listeners).toBeUndefined();
    const done = await call(api, 'GET', `/v1/executions/${queued}?waitMs=10000`);
    expect(done.body).toMatchObject({ status: 'success', output: { echo: 'behind', executionId: queued } });
  });

  it('without waitMs, with waitMs=0, or for an ended execution it answers at once', async () => {
    const id = await enqueue(api, 'slow', { sleepMs: 800 });
    for (const query of ['', '?waitMs=0']) {
      const { value, ms } = await timed(call(api, 'GET', `/v1/executions/${id}${query}`));
      expect(value.status).toBe(200);
      expect(['queued', 'running']).toContain(value.body.status);
      expect(ms).toBeLessThan(300);
    }
    await call(api, 'GET', `/v1/executions/${id}?waitMs=10000`);
    const { value, ms } = await timed(call(api, 'GET', `/v1/executions/${id}?waitMs=30000`));
    expect(value.body.status).toBe('success');
    expect(ms).toBeLessThan(300);
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
    const { value, ms } = await timed(call(api, 'GET', '/v1/executions/no-such-execution?waitMs=5000'));
    expect(value.status).toBe(404);
    expect(value.body).toMatchObject({ error: 'EXECUTION_NOT_FOUND' });
    expect(ms).toBeLessThan(1000);
  });

  it('a client that hangs up leaves no waiter behind; the others still get the result', async () => {
    const id = await enqueue(api, 'slow', { sleepMs: 1200 });
    const hangUp = new AbortController();
    const abandoned = fetch(`${api}/v1/executions/${id}?waitMs=20000`, { signal: hangUp.signal }).catch((e: Error) => e.name);
    const kept = call(api, 'GET', `/v1/executions/${id}?waitMs=20000`);
    await until(() => cp.invoker.waits.size === 2, 5000, 'two waiters');
    expect(cp.invoker.executions.get(id)?.listeners).toHaveLength(2);
    hangUp.abort();
    expect(await abandoned).toBe('AbortError');
    await until(() => cp.invoker.waits.size === 1, 2000, 'the abandoned waiter to go');
    expect(cp.invoker.executions.get(id)?.listeners).toHaveLength(1);
    const answer = await kept;
    expect(answer.body).toMatchObject({ executionId: id, status: 'success' });
    expect(cp.invoker.waits.size).toBe(0);
    expect(cp.invoker.executions.get(id)?.listeners).toBeUndefined();
  });

  it('is listed in the OpenAPI document as an integer query parameter', async () => {
    const doc = (await call(api, 'GET', '/v1/openapi.json')).body;
    const params = doc.paths['/v1/executions/{id}'].get.parameters as { in: string; name: string; schema: Record<string, unknown> }[];
    expect(params.find((p) => p.in === 'query' && p.name === 'waitMs')?.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 30000 });
  });
});

describe('ApiClient.waitForExecution (nanofaas invoke --async --wait)', () => {
  it('waits on a long-poll held by the server and returns the terminal state', async () => {
    const client = new ApiClient({ baseUrl: api });
    try {
      const id = await enqueue(api, 'slow', { sleepMs: 500 });
      const waiting = timed(client.waitForExecution(id, 10_000));
      // The client is parked on the server, not sleeping between polls.
      await until(() => cp.invoker.waits.size === 1, 2000, 'the client to long-poll');
      const { value, ms } = await waiting;
      expect(value).toMatchObject({ executionId: id, status: 'success', output: { ok: true, input: { sleepMs: 500 } } });
      expect(ms).toBeGreaterThanOrEqual(400);
      expect(ms).toBeLessThan(2500);
      expect(cp.invoker.waits.size).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('gives up with WAIT_TIMEOUT at its deadline and leaves no waiter', async () => {
    const client = new ApiClient({ baseUrl: api });
    try {
      const id = await enqueue(api, 'slow', { sleepMs: 2000 });
      const t0 = performance.now();
      await expect(client.waitForExecution(id, 300)).rejects.toMatchObject({ code: 'WAIT_TIMEOUT' });
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1500);
      expect(cp.invoker.waits.size).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('shutdown', () => {
  it('releases every waiter: queued ones at once, running ones at the end of the grace period', async () => {
    const own = await startInProcess({ NANOFAAS_SHUTDOWN_GRACE_MS: '300' });
    try {
      await register(own.api, 'stuck', { concurrency: 1 });
      const running = await enqueue(own.api, 'stuck', { sleepMs: 10_000 });
      await until(() => own.cp.invoker.executions.get(running)?.status === 'running', 5000, 'the execution to start');
      const queued = await enqueue(own.api, 'stuck', { echo: 'never' });
      const polls = [running, queued].map((id) => timed(call(own.api, 'GET', `/v1/executions/${id}?waitMs=30000`)));
      await until(() => own.cp.invoker.waits.size === 2, 5000, 'two waiters');
      const closed = timed(own.cp.close());
      const [r, q] = await Promise.all(polls);
      expect(r.value.status).toBe(200);
      expect(r.value.body).toMatchObject({ executionId: running, status: 'error', error: { error: 'SHUTTING_DOWN' } });
      expect(q.value.status).toBe(200);
      expect(q.value.body).toMatchObject({ executionId: queued, status: 'error', error: { error: 'SHUTTING_DOWN' } });
      expect(r.ms).toBeLessThan(5000);
      expect((await closed).ms).toBeLessThan(5000);
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
    const later = await timed(waits.wait(execution, 30_000));
    expect(later.value).toBe(execution);
    expect(later.ms).toBeLessThan(50);
    store.close();
  });
});
