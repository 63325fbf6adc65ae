/**
 * Async invocations end to end through JetStream with the real dispatcher: enqueue through the
 * API front, run by the runner against a real HTTP function on 127.0.0.1, records in KV. Retries
 * by nak up to max_deliver, the terminal error recorded when deliveries run out (also when the
 * replica holding the last one dies), waiting for an endpoint without spending attempts, and one
 * execution id for one Idempotency-Key through two replicas.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import { Metrics } from '../../control-plane/src/metrics.js';
import { NatsAsyncFront } from '../../control-plane/src/nats/async-front.js';
import { NatsAsyncRunner } from '../../control-plane/src/nats/async-runner.js';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { KvExecutionStore } from '../../control-plane/src/nats/execution-kv.js';
import { NatsWorkQueue } from '../../control-plane/src/nats/work-queue.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import type { Endpoint } from '../../control-plane/src/workloads/backend.js';
import { type RunningNats, startNats } from './nats-server.js';

let nats: RunningNats;
let fn: { server: Server; url: string; calls: { id: string; attempt: number; body: string }[]; behave: (attempt: number) => number };
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  nats = await startNats();
  const calls: { id: string; attempt: number; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const attempt = Number(req.headers['x-dispatch-attempt']);
      calls.push({ id: String(req.headers['x-execution-id']), attempt, body });
      const status = fn.behave(attempt);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ echoed: JSON.parse(body), attempt }) : '{"error":"BOOM","message":"failed"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fn = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, behave: () => 200 };
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  fn?.server.close();
  await nats?.close();
});

const defaults = { timeoutMs: 2_000, concurrency: 2, queueSize: 100, maxRetries: 2 };
const spec = (name: string, over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  ...resolveSpec({ name, endpointUrl: 'http://127.0.0.1:1' }, defaults),
  ...over,
});

/** The registration generation these tests run their functions as (registry-kv.ts makes real ones). */
const G = 'g1';
const reg = (name: string) => ({ name, generation: G });

interface Replica {
  client: NatsClient;
  front: NatsAsyncFront;
  runner: NatsAsyncRunner;
  queue: NatsWorkQueue;
  store: KvExecutionStore;
  endpoints: Map<string, Endpoint[]>;
}

async function replica(): Promise<Replica> {
  const client = await connectNats({ url: nats.url });
  const queue = await NatsWorkQueue.open(client, { duplicateWindowMs: 60_000, ackWaitSlackMs: 300 });
  const store = await KvExecutionStore.open(client, { executionTtlMs: 60_000, idempotencyTtlMs: 60_000 });
  const dispatcher = new Dispatcher();
  const endpoints = new Map<string, Endpoint[]>();
  const runner = new NatsAsyncRunner({
    client,
    queue,
    store,
    dispatcher,
    endpoints: (name) => endpoints.get(name) ?? [{ url: fn.url, ready: true }],
    metrics: new Metrics(),
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    logger: { warn: () => undefined },
    ackWaitSlackMs: 300,
  });
  runner.start();
  closers.push(async () => {
    await runner.shutdown(1_000);
    await dispatcher.close();
    await client.close();
  });
  return { client, front: new NatsAsyncFront(queue, store), runner, queue, store, endpoints };
}

const body = (n: number) => JSON.stringify({ input: { n } });

describe('async invocations on JetStream', () => {
  it('runs an enqueued invocation once and records its output; the stream is left empty', async () => {
    fn.behave = () => 200;
    const r = await replica();
    await r.runner.upsertFunction(spec('ok-fn'), G);
    const id = await r.front.enqueue(reg('ok-fn'), body(1), { traceId: undefined, idempotencyKey: undefined });
    const status = await r.front.status(id, 10_000);
    expect(status).toMatchObject({ executionId: id, functionName: 'ok-fn', status: 'success', attempts: 1, error: null });
    expect(status?.output).toEqual({ echoed: { input: { n: 1 } }, attempt: 1 });
    expect(fn.calls.filter((c) => c.id === id)).toHaveLength(1);
    // The record is written before the ack (a crash between the two repeats, never loses), so the
    // ack lands just after the answer.
    await expect.poll(() => r.queue.depth(reg('ok-fn'))).toEqual({ pending: 0, inFlight: 0 });
    expect(await r.queue.find(id)).toBeUndefined();
  });

  it('naks retryable failures with back-off and ends as error after maxRetries + 1 deliveries', async () => {
    fn.behave = () => 500;
    const r = await replica();
    await r.runner.upsertFunction(spec('fail-fn', { maxRetries: 2 }), G);
    const id = await r.front.enqueue(reg('fail-fn'), body(2), { traceId: undefined, idempotencyKey: undefined });
    const status = await r.front.status(id, 10_000);
    expect(status).toMatchObject({ status: 'error', attempts: 3, error: { error: 'FUNCTION_ERROR', details: { runtimeStatus: 500 } } });
    expect(fn.calls.filter((c) => c.id === id).map((c) => c.attempt)).toEqual([1, 2, 3]);
    await expect.poll(() => r.queue.depth(reg('fail-fn'))).toEqual({ pending: 0, inFlight: 0 });
  });

  it('a delivery waits for a ready endpoint without spending an attempt', async () => {
    fn.behave = () => 200;
    const r = await replica();
    r.endpoints.set('late-fn', []);
    await r.runner.upsertFunction(spec('late-fn', { maxRetries: 0, timeoutMs: 200 }), G);
    const id = await r.front.enqueue(reg('late-fn'), body(3), { traceId: undefined, idempotencyKey: undefined });
    // Delivered and held: in flight on the server, nothing recorded, nothing called.
    await expect.poll(() => r.queue.depth(reg('late-fn')), { timeout: 5_000 }).toEqual({ pending: 0, inFlight: 1 });
    // Held past ack_wait (200 + 300 ms) thanks to in-progress acks: still the first delivery.
    expect((await r.front.status(id, 1_000))?.status).toBe('queued');
    r.endpoints.set('late-fn', [{ url: fn.url, ready: true }]);
    r.runner.endpointsChanged('late-fn');
    expect(await r.front.status(id, 10_000)).toMatchObject({ status: 'success', attempts: 1 });
  });

  it('deleting a function ends its queued executions as FUNCTION_DELETED and empties its queue', async () => {
    const r = await replica();
    r.endpoints.set('gone-fn', []);
    await r.runner.upsertFunction(spec('gone-fn', { concurrency: 1 }), G);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(await r.front.enqueue(reg('gone-fn'), body(10 + i), { traceId: undefined, idempotencyKey: undefined }));
    // One is held waiting for an endpoint, two are pending on the server.
    await expect.poll(() => r.queue.depth(reg('gone-fn')), { timeout: 5_000 }).toEqual({ pending: 2, inFlight: 1 });
    await r.runner.removeFunction('gone-fn', G);
    for (const id of ids) {
      expect(await r.front.status(id)).toMatchObject({ status: 'error', attempts: 0, error: { error: 'FUNCTION_DELETED' } });
    }
    for (const id of ids) expect(await r.queue.find(id)).toBeUndefined();
    expect(fn.calls.filter((c) => ids.includes(c.id))).toEqual([]);
  });

  it('records an error when the replica holding the last delivery dies (MAX_DELIVERIES advisory)', async () => {
    const survivor = await replica();
    const doomed = await connectNats({ url: nats.url });
    const doomedQueue = await NatsWorkQueue.open(doomed, { duplicateWindowMs: 60_000, ackWaitSlackMs: 300 });
    await doomedQueue.ensureConsumer(spec('orphan-fn', { maxRetries: 0, timeoutMs: 200 }), G);
    let took: (() => void) | undefined;
    const taken = new Promise<void>((resolve) => (took = resolve));
    await doomedQueue.consume(reg('orphan-fn'), 1, () => took?.());
    const id = await survivor.front.enqueue(reg('orphan-fn'), body(4), { traceId: undefined, idempotencyKey: undefined });
    await taken;
    // The survivor consumes the function too, as every replica does: the server notices the
    // exhausted delivery (and sends the advisory) when a pull request is waiting on the consumer,
    // so without one the advisory depended on the dead holder's stale pull request.
    await survivor.runner.upsertFunction(spec('orphan-fn', { maxRetries: 0, timeoutMs: 200 }), G);
    // The holder goes away without acking; with max_deliver 1 the server will not redeliver.
    doomed.nc.close();
    const status = await survivor.front.status(id, 10_000);
    expect(status).toMatchObject({
      status: 'error',
      attempts: 1,
      error: { error: 'FUNCTION_ERROR', details: { cause: 'max-deliveries' } },
    });
    await expect.poll(() => survivor.queue.find(id)).toBeUndefined();
  });

  it('one Idempotency-Key through two replicas gives one execution id, before and after it ran', async () => {
    fn.behave = () => 200;
    const a = await replica();
    const b = await replica();
    await a.runner.upsertFunction(spec('idem-fn'), G);
    await b.runner.upsertFunction(spec('idem-fn'), G);
    const opts = { traceId: undefined, idempotencyKey: 'order-42' };
    const [idA, idB] = await Promise.all([a.front.enqueue(reg('idem-fn'), body(5), opts), b.front.enqueue(reg('idem-fn'), body(5), opts)]);
    expect(idA).toBe(idB);
    expect((await b.front.status(idA, 10_000))?.status).toBe('success');
    // After it ran (message consumed), the KV key answers.
    expect(await b.front.enqueue(reg('idem-fn'), body(5), opts)).toBe(idA);
    expect(await a.front.enqueue(reg('idem-fn'), body(5), opts)).toBe(idA);
    expect(fn.calls.filter((c) => c.id === idA)).toHaveLength(1);
  });
});
