// Runtime connection pools are released when no function uses their endpoint any more: a
// function deleted or re-registered elsewhere, or a replica that came back on another port,
// must not leave an undici Pool (and its keep-alive sockets) open until shutdown.
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../control-plane/src/config.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/src/control-plane.js';
import type { Endpoint } from '../../control-plane/src/workloads/backend.js';
import { createBackend, type RoutedBackend } from '../../control-plane/src/workloads/index.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, tempStateDir, until, ROOT } from './helpers.js';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function runtime(): Promise<FixtureRuntime> {
  const r = await startFixtureRuntime();
  cleanups.push(() => r.close());
  return r;
}

async function controlPlane(backend?: RoutedBackend): Promise<{ cp: ControlPlane; api: string }> {
  const dir = tempStateDir();
  dirs.push(dir);
  const config = loadConfig({
    NANOFAAS_PORT: '0',
    NANOFAAS_STATE_DIR: dir,
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
    NANOFAAS_LOG_LEVEL: 'silent',
  });
  const cp = await createControlPlane(config, silent, backend ? { backend } : {});
  cleanups.push(() => cp.close());
  const { apiUrl } = await cp.start();
  return { cp, api: apiUrl };
}

/** Open TCP connections the runtime's server holds (the control plane's keep-alive sockets). */
const connections = (r: FixtureRuntime) =>
  new Promise<number>((resolve, reject) => r.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

async function invokeOk(api: string, name: string, input: unknown = { echo: name }): Promise<void> {
  const answer = await call(api, 'POST', `/v1/functions/${name}:invoke`, { input });
  expect(answer.status, answer.text).toBe(200);
}

describe('dispatcher pools follow the endpoints in use', () => {
  it('delete + re-register at another runtime: the old pool is closed, invocations still work', async () => {
    const [first, second] = [await runtime(), await runtime()];
    const { cp, api } = await controlPlane();

    expect((await call(api, 'POST', '/v1/functions', { name: 'mover', endpointUrl: first.url })).status).toBe(201);
    await invokeOk(api, 'mover');
    expect(cp.dispatcher.poolCount).toBe(1);
    expect(await connections(first)).toBeGreaterThan(0);

    expect((await call(api, 'DELETE', '/v1/functions/mover')).status).toBe(204);
    expect(cp.dispatcher.poolCount).toBe(0);
    // Pool.close() ends the idle keep-alive sockets to the old runtime.
    await until(async () => (await connections(first)) === 0 || undefined, 5000, 'sockets to the old runtime to close');

    expect((await call(api, 'POST', '/v1/functions', { name: 'mover', endpointUrl: second.url })).status).toBe(201);
    const served = first.requests.length;
    await invokeOk(api, 'mover');
    await invokeOk(api, 'mover');
    expect(cp.dispatcher.poolCount).toBe(1);
    expect(first.requests.length).toBe(served);
    expect(second.requests.length).toBe(2);
  });

  it('a pool shared by two functions stays until the last one goes, and its in-flight call still finishes', async () => {
    const shared = await runtime();
    const { cp, api } = await controlPlane();
    for (const name of ['a', 'b']) {
      expect((await call(api, 'POST', '/v1/functions', { name, endpointUrl: shared.url })).status).toBe(201);
      await invokeOk(api, name);
    }
    expect(cp.dispatcher.poolCount).toBe(1);

    // Held at the runtime until both functions are gone, so it is in flight when its pool is released.
    const slow = call(api, 'POST', '/v1/functions/b:invoke', { input: { gate: 'b-slow' } });
    await shared.received(onGate('b-slow'));
    expect((await call(api, 'DELETE', '/v1/functions/a')).status).toBe(204);
    expect(cp.dispatcher.poolCount).toBe(1);
    await invokeOk(api, 'b');

    expect((await call(api, 'DELETE', '/v1/functions/b')).status).toBe(204);
    expect(cp.dispatcher.poolCount).toBe(0);
    // The released pool drains: the attempt already sent gets its answer (close, not destroy).
    shared.openGate('b-slow');
    const answer = await slow;
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.output).toEqual({ ok: true, input: { gate: 'b-slow' } });
    expect(shared.stats.aborted).toBe(0);
  });

  it('a replica that comes back on another port (backend onChange) releases the old pool', async () => {
    const [before, after] = [await runtime(), await runtime()];
    const dir = tempStateDir();
    dirs.push(dir);
    // The pool backend, with one function whose endpoint the test moves like a respawned replica.
    const routed = createBackend({ kind: 'pool', namespace: 'unused', rootDir: ROOT, stateDir: dir, logger: silent });
    let current: Endpoint[] = [{ url: before.url, ready: true }];
    const listeners = new Set<(name: string) => void>();
    const backend: RoutedBackend = {
      ...routed,
      endpoints: (name) => (name === 'respawn' ? current : routed.endpoints(name)),
      onChange(listener) {
        listeners.add(listener);
        const off = routed.onChange(listener);
        return () => {
          listeners.delete(listener);
          off();
        };
      },
    };
    const { cp, api } = await controlPlane(backend);
    expect((await call(api, 'POST', '/v1/functions', { name: 'respawn', endpointUrl: before.url })).status).toBe(201);
    await invokeOk(api, 'respawn');
    expect(cp.dispatcher.poolCount).toBe(1);

    for (const next of [after, before, after]) {
      current = [{ url: next.url, ready: true }];
      for (const listener of listeners) listener('respawn');
      expect(cp.dispatcher.poolCount).toBe(0);
      await invokeOk(api, 'respawn');
      expect(cp.dispatcher.poolCount).toBe(1);
    }
    expect(before.requests.length).toBe(2);
    expect(after.requests.length).toBe(2);
    await until(async () => (await connections(before)) === 0 || undefined, 5000, 'sockets to the replaced replica to close');
  });
});
