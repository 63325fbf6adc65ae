/**
 * Runtime callbacks with NANOFAAS_API_TOKEN set: each function's runtimes hold a credential that
 * completes that function's executions and nothing else. The credential is recomputed here from
 * its documented formula, HMAC-SHA256(key = API token, "nanofaas-callback:" + name), base64url.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackCredentials } from '../../control-plane/src/api/callback-credential.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, startControlPlane, type RunningControlPlane } from './helpers.js';

const TOKEN = 'api-token-for-callbacks-test';
const API = { authorization: `Bearer ${TOKEN}` };
const credential = (name: string) => createHmac('sha256', TOKEN).update(`nanofaas-callback:${name}`).digest('base64url');
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

let fixture: FixtureRuntime;
let cp: RunningControlPlane;

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  cp = await startControlPlane({ NANOFAAS_API_TOKEN: TOKEN });
  for (const name of ['fn-a', 'fn-b']) {
    const answer = await call(cp.apiUrl, 'POST', '/v1/functions', { name, endpointUrl: fixture.url }, API);
    expect(answer.status, answer.text).toBe(201);
  }
});

afterAll(async () => {
  fixture?.openGate('held-a');
  await cp?.stop();
  await fixture?.close();
  if (cp) removeDir(cp.stateDir);
});

/** An execution of `name` running at the runtime (held there on a gate until the test ends). */
async function runningExecution(name: string, gate: string): Promise<string> {
  const queued = await call(cp.apiUrl, 'POST', `/v1/functions/${name}:enqueue`, { input: { gate } }, API);
  expect(queued.status, queued.text).toBe(202);
  const id: string = queued.body.executionId;
  await fixture.received((r) => onGate(gate)(r) && r.executionId === id);
  return id;
}

const complete = (id: string, headers: Record<string, string>, output: unknown = { via: 'callback' }) =>
  call(cp.apiUrl, 'POST', `/v1/internal/executions/${id}:complete`, { attempt: 1, status: 'success', output }, headers);

describe('callback credentials', () => {
  it('the module derives the documented value, the same on every instance, and none without an API token', () => {
    expect(callbackCredentials(TOKEN).token('fn-a')).toBe(credential('fn-a'));
    expect(callbackCredentials(TOKEN).token('fn-a')).toBe(callbackCredentials(TOKEN).token('fn-a'));
    expect(callbackCredentials(TOKEN).token('fn-a')).not.toBe(callbackCredentials(TOKEN).token('fn-b'));
    expect(callbackCredentials(`${TOKEN}-rotated`).token('fn-a')).not.toBe(credential('fn-a'));
    expect(callbackCredentials(undefined).token('fn-a')).toBeUndefined();
    expect(callbackCredentials(TOKEN).verify('fn-a', `Bearer ${credential('fn-a')}`)).toBe(true);
    expect(callbackCredentials(TOKEN).verify('fn-a', `Bearer ${credential('fn-a')}x`)).toBe(false);
    expect(callbackCredentials(TOKEN).verify('fn-a', undefined)).toBe(false);
  });

  it("function A's credential completes A's execution (204); B's credential, none or a wrong one is 401", async () => {
    const id = await runningExecution('fn-a', 'held-a');
    for (const headers of [bearer(credential('fn-b')), {}, bearer('not-a-credential'), { authorization: credential('fn-a') }]) {
      const refused = await complete(id, headers);
      expect(refused.status, `${JSON.stringify(headers)}: ${refused.text}`).toBe(401);
      expect(refused.body).toMatchObject({ error: 'UNAUTHORIZED' });
    }
    const before = await call(cp.apiUrl, 'GET', `/v1/executions/${id}`, undefined, API);
    expect(before.body.status).toBe('running');

    const done = await complete(id, bearer(credential('fn-a')));
    expect(done.status, done.text).toBe(204);
    const after = await call(cp.apiUrl, 'GET', `/v1/executions/${id}`, undefined, API);
    expect(after.body).toMatchObject({ status: 'success', output: { via: 'callback' } });
  });

  it('the API token still completes any execution', async () => {
    const id = await runningExecution('fn-b', 'held-b');
    const done = await complete(id, API, { via: 'api-token' });
    expect(done.status, done.text).toBe(204);
    const after = await call(cp.apiUrl, 'GET', `/v1/executions/${id}`, undefined, API);
    expect(after.body).toMatchObject({ status: 'success', output: { via: 'api-token' } });
    fixture.openGate('held-b');
  });

  it('a callback credential opens nothing else: not the API, not an unknown execution', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/functions', undefined],
      ['POST', '/v1/functions/fn-a:invoke', { input: 1 }],
      ['POST', '/v1/functions/fn-a:enqueue', { input: 1 }],
      ['GET', '/v1/executions/00000000-0000-0000-0000-000000000000', undefined],
      ['DELETE', '/v1/functions/fn-a', undefined],
    ] as const) {
      const answer = await call(cp.apiUrl, method, path, body, bearer(credential('fn-a')));
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(401);
    }
    const unknown = '00000000-0000-0000-0000-000000000000';
    expect((await complete(unknown, bearer(credential('fn-a')))).status).toBe(401);
    const withToken = await complete(unknown, API);
    expect(withToken.status).toBe(404);
    expect(withToken.body).toMatchObject({ error: 'EXECUTION_NOT_FOUND' });
  });
});
