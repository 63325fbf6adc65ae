/**
 * Sync calls are resent only when the runtime provably never saw them (the connection was
 * refused) or when the caller gave an Idempotency-Key. The runtime here is a real node HTTP server
 * that records every call it receives and then dies mid-call (destroys the socket without
 * answering), as a runtime killed while handling a request does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { Dispatcher, type AttemptResult } from '../../control-plane/src/dispatch/dispatcher.js';
import { call, finalExecution, functionMetric, removeDir, startControlPlane, type RunningControlPlane } from './helpers.js';

/** Calls received per path. `/drop/…` always dies mid-call; `/drop-once/…` dies on its first call only. */
interface DyingRuntime {
  url: string;
  server: Server;
  calls: Map<string, { executionId: string; attempt: string; idempotencyKey: string | undefined }[]>;
}

async function startDyingRuntime(): Promise<DyingRuntime> {
  const calls: DyingRuntime['calls'] = new Map();
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    req.resume();
    req.on('end', () => {
      const seen = calls.get(path) ?? [];
      seen.push({
        executionId: String(req.headers['x-execution-id']),
        attempt: String(req.headers['x-dispatch-attempt']),
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      });
      calls.set(path, seen);
      const dies = path.startsWith('/drop/') || (path.startsWith('/drop-once/') && seen.length === 1);
      // The whole request was read (the handler "ran"), then the process died without answering.
      if (dies) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ranAs: seen.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let runtime: DyingRuntime;
let cp: RunningControlPlane;

beforeAll(async () => {
  runtime = await startDyingRuntime();
  cp = await startControlPlane();
});

afterAll(async () => {
  await cp?.stop();
  runtime?.server.closeAllConnections();
  await new Promise<void>((resolve) => (runtime ? runtime.server.close(() => resolve()) : resolve()));
  if (cp) removeDir(cp.stateDir);
});

const register = async (name: string, endpointUrl: string, maxRetries = 3) => {
  const answer = await call(cp.apiUrl, 'POST', '/v1/functions', { name, endpointUrl, maxRetries });
  expect(answer.status, answer.text).toBe(201);
};

describe('dispatcher: was the request sent?', () => {
  const send = (dispatcher: Dispatcher, url: string) =>
    new Promise<AttemptResult>((resolve) => {
      dispatcher.send(
        url,
        { body: '{"input":1}', executionId: 'e1', traceId: undefined, idempotencyKey: undefined, attempt: 1, timeoutMs: 5_000 },
        resolve,
      );
    });

  it('a refused connection is "refused" (never sent); a connection that dies after the request is "connection"', async () => {
    const dispatcher = new Dispatcher();
    try {
      const refused = await send(dispatcher, `http://127.0.0.1:${await closedPort()}`);
      expect(refused).toMatchObject({ kind: 'refused', message: expect.stringMatching(/^ECONNREFUSED/) });
      const dropped = await send(dispatcher, `${runtime.url}/drop/unit`);
      expect(dropped.kind).toBe('connection');
      expect(runtime.calls.get('/drop/unit/invoke')).toHaveLength(1);
    } finally {
      await dispatcher.close();
    }
  });
});

describe('sync retries', () => {
  it('without an Idempotency-Key, a runtime that dies mid-call runs the handler exactly once: 502, one attempt', async () => {
    await register('dies', `${runtime.url}/drop/dies`);
    const answer = await call(cp.apiUrl, 'POST', '/v1/functions/dies:invoke', { input: 1 });
    expect(answer.status, answer.text).toBe(502);
    expect(answer.body).toMatchObject({ status: 'error', error: 'FUNCTION_ERROR', message: expect.stringMatching(/unreachable/) });
    expect(runtime.calls.get('/drop/dies/invoke')?.map((c) => c.executionId)).toEqual([answer.body.executionId]);
    const execution = await call(cp.apiUrl, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body.attempts).toBe(1);
    expect((await functionMetric(cp.managementUrl, METRICS.retry, 'dies')) ?? 0).toBe(0);
  });

  it('with an Idempotency-Key, the caller accepts a second run: resent after the drop, and the second run answers', async () => {
    await register('dies-once', `${runtime.url}/drop-once/dies-once`);
    const answer = await call(cp.apiUrl, 'POST', '/v1/functions/dies-once:invoke', { input: 1 }, { 'idempotency-key': 'order-7' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.output).toEqual({ ranAs: 2 });
    const calls = runtime.calls.get('/drop-once/dies-once/invoke')!;
    expect(calls.map((c) => [c.executionId, c.attempt, c.idempotencyKey])).toEqual([
      [answer.body.executionId, '1', 'order-7'],
      [answer.body.executionId, '2', 'order-7'],
    ]);
  });

  it('a refused connection (the runtime never saw the call) is retried up to maxRetries, then 502', async () => {
    await register('refused', `http://127.0.0.1:${await closedPort()}`, 2);
    const answer = await call(cp.apiUrl, 'POST', '/v1/functions/refused:invoke', { input: 1 });
    expect(answer.status, answer.text).toBe(502);
    expect(answer.body.message).toMatch(/ECONNREFUSED/);
    const execution = await call(cp.apiUrl, 'GET', `/v1/executions/${answer.body.executionId}`);
    expect(execution.body.attempts).toBe(3);
    expect(await functionMetric(cp.managementUrl, METRICS.retry, 'refused')).toBe(2);
  });

  it('async executions stay at-least-once: a drop mid-call is retried without a key', async () => {
    await register('async-dies-once', `${runtime.url}/drop-once/async-dies-once`);
    const queued = await call(cp.apiUrl, 'POST', '/v1/functions/async-dies-once:enqueue', { input: 1 });
    expect(queued.status, queued.text).toBe(202);
    const done = await finalExecution(cp.apiUrl, queued.body.executionId);
    expect(done).toMatchObject({ status: 'success', attempts: 2, output: { ranAs: 2 } });
    expect(runtime.calls.get('/drop-once/async-dies-once/invoke')).toHaveLength(2);
  });
});
