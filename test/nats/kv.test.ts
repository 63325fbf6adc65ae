/**
 * Execution records, idempotency keys and the function registry in JetStream KV, against a real
 * nats-server, each seen from a second connection (another replica).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { type ExecutionRecord, KvExecutionStore, recordToStatus } from '../../control-plane/src/nats/execution-kv.js';
import { KvFunctionStore, type RegistryChange } from '../../control-plane/src/nats/registry-kv.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import { type RunningNats, startNats } from './nats-server.js';

let nats: RunningNats;
const clients: NatsClient[] = [];

beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await nats?.close();
});

async function client(): Promise<NatsClient> {
  const c = await connectNats({ url: nats.url });
  clients.push(c);
  return c;
}

const ttl = { executionTtlMs: 60_000, idempotencyTtlMs: 60_000 };

const running = (id: string): ExecutionRecord => ({
  id,
  functionName: 'echo',
  status: 'running',
  attempts: 1,
  createdAt: 1_700_000_000_000,
  startedAt: 1_700_000_000_100,
  finishedAt: 0,
  error: null,
});

describe('KV execution store', () => {
  it('round-trips a record; begin() creates once and hands a later caller the stored record', async () => {
    const a = await KvExecutionStore.open(await client(), ttl);
    const b = await KvExecutionStore.open(await client(), ttl);
    expect(await a.get('x-1')).toBeUndefined();
    expect(await a.begin(running('x-1'))).toEqual({ created: true, record: running('x-1') });
    const again = await b.begin({ ...running('x-1'), attempts: 2 });
    expect(again).toEqual({ created: false, record: running('x-1') });
    const done: ExecutionRecord = { ...running('x-1'), status: 'success', finishedAt: 1_700_000_000_200, outputJson: '{"ok":true}' };
    await b.put(done);
    expect(await a.get('x-1')).toEqual(done);
    expect(recordToStatus(done)).toEqual({
      executionId: 'x-1',
      functionName: 'echo',
      status: 'success',
      attempts: 1,
      createdAt: '2023-11-14T22:13:20.000Z',
      startedAt: '2023-11-14T22:13:20.100Z',
      finishedAt: '2023-11-14T22:13:20.200Z',
      output: { ok: true },
      error: null,
    });
  });

  it('waitForEnd answers on another replica’s terminal write, and after waitMs with the latest state', async () => {
    const a = await KvExecutionStore.open(await client(), ttl);
    const b = await KvExecutionStore.open(await client(), ttl);
    await a.begin(running('w-1'));
    const waiting = a.waitForEnd('w-1', 10_000);
    // The queued → running → error writes come from replica b; only the terminal one ends the wait.
    await b.put({ ...running('w-1'), status: 'queued' });
    await b.put({ ...running('w-1'), attempts: 2 });
    const started = Date.now();
    await b.put({ ...running('w-1'), attempts: 2, status: 'error', finishedAt: 5, error: { error: 'FUNCTION_ERROR', message: 'boom' } });
    const ended = await waiting;
    expect(ended).toMatchObject({ status: 'error', attempts: 2, error: { error: 'FUNCTION_ERROR' } });
    expect(Date.now() - started).toBeLessThan(2_000);

    await a.begin(running('w-2'));
    const t0 = Date.now();
    const timedOut = await a.waitForEnd('w-2', 300);
    expect(timedOut?.status).toBe('running');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

    const aborted = new AbortController();
    const cut = a.waitForEnd('w-2', 10_000, aborted.signal);
    aborted.abort();
    expect((await cut)?.status).toBe('running');
  });

  it('an idempotency key claimed through two replicas maps to one execution; forgetFunction drops it', async () => {
    const a = await KvExecutionStore.open(await client(), ttl);
    const b = await KvExecutionStore.open(await client(), ttl);
    const [ownerA, ownerB] = await Promise.all([
      a.claimKey('echo', 'key/with spaces ✓', 'id-a'),
      b.claimKey('echo', 'key/with spaces ✓', 'id-b'),
    ]);
    expect(ownerA).toBe(ownerB);
    expect(await b.findKey('echo', 'key/with spaces ✓')).toBe(ownerA);
    expect(await a.findKey('other', 'key/with spaces ✓')).toBeUndefined();
    await a.forgetFunction('echo');
    expect(await b.findKey('echo', 'key/with spaces ✓')).toBeUndefined();
  });
});

describe('KV function registry', () => {
  const defaults = { timeoutMs: 30_000, concurrency: 4, queueSize: 100, maxRetries: 3 };
  const spec = (name: string, over: Partial<FunctionSpec> = {}): FunctionSpec => ({
    ...resolveSpec({ name, runtime: 'node', handler: 'functions/echo/index.js' }, defaults),
    ...over,
  });

  it('a registration, change and deletion through replica A reach replica B’s watch within 1 s', async () => {
    const a = await KvFunctionStore.open(await client());
    const b = await KvFunctionStore.open(await client());
    const changes: { change: RegistryChange; at: number }[] = [];
    let notify: (() => void) | undefined;
    const next = (n: number) =>
      changes.length >= n ? Promise.resolve() : new Promise<void>((r) => (notify = () => changes.length >= n && r()));
    const stop = await b.watch((change) => {
      changes.push({ change, at: Date.now() });
      notify?.();
    });

    let t = Date.now();
    await a.save([spec('alpha')]);
    await next(1);
    expect(changes[0]!.change).toEqual({ kind: 'put', spec: spec('alpha') });
    expect(changes[0]!.at - t).toBeLessThan(1_000);

    t = Date.now();
    await a.save([spec('alpha', { concurrency: 9 })]);
    await next(2);
    expect(changes[1]!.change).toMatchObject({ kind: 'put', spec: { name: 'alpha', concurrency: 9 } });
    expect(changes[1]!.at - t).toBeLessThan(1_000);

    // B saving its own list (which has alpha, seen through the watch) leaves alpha alone.
    await b.save([spec('alpha', { concurrency: 9 }), spec('beta')]);
    await next(3);
    expect(changes[2]!.change).toMatchObject({ kind: 'put', spec: { name: 'beta' } });

    t = Date.now();
    await a.save([]);
    await next(4);
    expect(changes[3]!.change).toEqual({ kind: 'delete', name: 'alpha' });
    expect(changes[3]!.at - t).toBeLessThan(1_000);
    // A had never seen beta (it was saved by B), so A's empty list does not delete it.
    const fresh = await KvFunctionStore.open(await client());
    expect((await fresh.load()).map((s) => s.name)).toEqual(['beta']);
    stop();
  });
});
