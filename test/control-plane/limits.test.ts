/**
 * Global caps (NANOFAAS_MAX_FUNCTIONS, NANOFAAS_MAX_TOTAL_REPLICAS, NANOFAAS_MAX_LIVE_EXECUTIONS)
 * on the real control plane: past a cap the answer is 429 LIMIT_EXCEEDED naming it, and nothing
 * is started. Replicas are real processes of the process backend (the fixture runtime).
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { makeFixtureRoot } from '../process-backend/helpers.js';
import { call, finalExecution, removeDir, startControlPlane, type Answer, type RunningControlPlane } from './helpers.js';

let fixture: FixtureRuntime;
let fixtureRoot: string;
let cp: RunningControlPlane | undefined;

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  fixtureRoot = await makeFixtureRoot();
});
afterEach(async () => {
  if (cp) {
    await cp.stop();
    removeDir(cp.stateDir);
    cp = undefined;
  }
});
afterAll(async () => {
  // An open gate stays open: only now, so no earlier test releases the live-cap test's held call.
  fixture?.openGate('live-cap');
  await fixture?.close();
  if (fixtureRoot) rmSync(fixtureRoot, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<string> {
  cp = await startControlPlane({
    NANOFAAS_ROOT_DIR: fixtureRoot,
    NANOFAAS_FUNCTION_USER: 'inherit',
    NANOFAAS_SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  return cp.apiUrl;
}

function expectLimit(answer: Answer, variable: string, max: number): void {
  expect(answer.status, answer.text).toBe(429);
  expect(answer.body).toMatchObject({ error: 'LIMIT_EXCEEDED', details: { limit: variable, max } });
  expect(answer.body.message).toContain(`${variable}=${max}`);
}

const local = (name: string, replicas: number) => ({ name, runtime: 'node', handler: 'handlers/echo.js', replicas });
const pool = (name: string, extra: Record<string, unknown> = {}) => ({ name, endpointUrl: fixture.url, ...extra });

describe('NANOFAAS_MAX_FUNCTIONS', () => {
  it('refuses a registration past the cap, and takes one again once a function is deleted', async () => {
    const api = await start({ NANOFAAS_MAX_FUNCTIONS: '3' });
    for (const name of ['f1', 'f2', 'f3']) expect((await call(api, 'POST', '/v1/functions', pool(name))).status).toBe(201);
    expectLimit(await call(api, 'POST', '/v1/functions', pool('f4')), 'NANOFAAS_MAX_FUNCTIONS', 3);
    expect((await call(api, 'GET', '/v1/functions/f4')).status).toBe(404);
    expect((await call(api, 'GET', '/v1/functions')).body).toHaveLength(3);

    expect((await call(api, 'DELETE', '/v1/functions/f2')).status).toBe(204);
    expect((await call(api, 'POST', '/v1/functions', pool('f4'))).status).toBe(201);
  });

  it('concurrent registrations cannot both take the last place', async () => {
    const api = await start({ NANOFAAS_MAX_FUNCTIONS: '1' });
    const answers = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((name) => call(api, 'POST', '/v1/functions', pool(name))));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 429, 429, 429]);
    // The message counts in English: "1 function is", not "1 functions are".
    expect(answers.find((a) => a.status === 429)!.body.message).toBe(
      'NANOFAAS_MAX_FUNCTIONS=1: 1 function is registered already; delete one or raise the cap',
    );
  });
});

describe('NANOFAAS_MAX_TOTAL_REPLICAS', () => {
  it('counts replicas over every function at registration and on PUT replicas; scaling down always works', async () => {
    const api = await start({ NANOFAAS_MAX_TOTAL_REPLICAS: '2' });
    // One request asking for more than the whole cap starts nothing.
    expectLimit(await call(api, 'POST', '/v1/functions', local('big', 3)), 'NANOFAAS_MAX_TOTAL_REPLICAS', 2);
    expect((await call(api, 'GET', '/v1/functions/big')).status).toBe(404);

    expect((await call(api, 'POST', '/v1/functions', local('r1', 1))).status).toBe(201);
    expect((await call(api, 'POST', '/v1/functions', local('r2', 0))).status).toBe(201);
    const over = await call(api, 'PUT', '/v1/functions/r2/replicas', { replicas: 2 });
    expectLimit(over, 'NANOFAAS_MAX_TOTAL_REPLICAS', 2);
    expect(over.body.details).toMatchObject({ requested: 2, inUse: 1 });
    expect((await call(api, 'GET', '/v1/functions/r2')).body.replicas).toBe(0);
    expectLimit(await call(api, 'POST', '/v1/functions', local('r3', 2)), 'NANOFAAS_MAX_TOTAL_REPLICAS', 2);

    expect((await call(api, 'PUT', '/v1/functions/r2/replicas', { replicas: 1 })).status).toBe(200);
    expect((await call(api, 'PUT', '/v1/functions/r1/replicas', { replicas: 0 })).status).toBe(200);
    expect((await call(api, 'PUT', '/v1/functions/r2/replicas', { replicas: 2 })).status).toBe(200);
    // A pool function runs nothing here, so its replicas take nothing from the cap.
    expect((await call(api, 'POST', '/v1/functions', pool('outside', { replicas: 5 }))).status).toBe(201);
  });

  it('concurrent scale-ups cannot both fit under the cap', async () => {
    const api = await start({ NANOFAAS_MAX_TOTAL_REPLICAS: '1' });
    expect((await call(api, 'POST', '/v1/functions', local('s1', 0))).status).toBe(201);
    expect((await call(api, 'POST', '/v1/functions', local('s2', 0))).status).toBe(201);
    const answers = await Promise.all(['s1', 's2'].map((name) => call(api, 'PUT', `/v1/functions/${name}/replicas`, { replicas: 1 })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 429]);
    expect(answers.find((a) => a.status === 429)!.body.message).toMatch(/asks for 1 replica and 1 is taken by other functions$/);
  });
});

describe('NANOFAAS_MAX_LIVE_EXECUTIONS', () => {
  it('counts queued and running executions over every function; invoke and enqueue past it are 429 with Retry-After', async () => {
    const api = await start({ NANOFAAS_MAX_LIVE_EXECUTIONS: '2', SYNC_QUEUE_RETRY_AFTER_SECONDS: '3' });
    expect((await call(api, 'POST', '/v1/functions', pool('one', { concurrency: 1 }))).status).toBe(201);
    expect((await call(api, 'POST', '/v1/functions', pool('other'))).status).toBe(201);
    const running = await call(api, 'POST', '/v1/functions/one:enqueue', { input: { gate: 'live-cap' } }, { 'idempotency-key': 'k1' });
    await fixture.received((r) => onGate('live-cap')(r) && r.executionId === running.body.executionId);
    const queued = await call(api, 'POST', '/v1/functions/one:enqueue', { input: { gate: 'live-cap' } });
    expect([running.status, queued.status]).toEqual([202, 202]);
    expect((await call(api, 'GET', `/v1/executions/${queued.body.executionId}`)).body.status).toBe('queued');

    const enqueue = await call(api, 'POST', '/v1/functions/other:enqueue', { input: 1 });
    expectLimit(enqueue, 'NANOFAAS_MAX_LIVE_EXECUTIONS', 2);
    expect(enqueue.headers.get('retry-after')).toBe('3');
    const invoke = await call(api, 'POST', '/v1/functions/other:invoke', { input: 1 });
    expectLimit(invoke, 'NANOFAAS_MAX_LIVE_EXECUTIONS', 2);
    expect(invoke.headers.get('retry-after')).toBe('3');
    // A repeated Idempotency-Key joins its execution: no new one, so no refusal.
    const again = await call(api, 'POST', '/v1/functions/one:enqueue', { input: { gate: 'live-cap' } }, { 'idempotency-key': 'k1' });
    expect(again.status).toBe(202);
    expect(again.body.executionId).toBe(running.body.executionId);

    fixture.openGate('live-cap');
    await finalExecution(api, running.body.executionId);
    await finalExecution(api, queued.body.executionId);
    const after = await call(api, 'POST', '/v1/functions/other:invoke', { input: 1 });
    expect(after.status, after.text).toBe(200);
  });
});
