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

  it('an idempotency key claimed through two replicas maps to one execution; forgetFunction drops only its registration’s', async () => {
    const a = await KvExecutionStore.open(await client(), ttl);
    const b = await KvExecutionStore.open(await client(), ttl);
    const echo1 = { name: 'echo', generation: 'g1' };
    const echo2 = { name: 'echo', generation: 'g2' };
    const legacy = { name: 'echo', generation: '' };
    const [ownerA, ownerB] = await Promise.all([
      a.claimKey(echo1, 'key/with spaces ✓', 'id-a'),
      b.claimKey(echo1, 'key/with spaces ✓', 'id-b'),
    ]);
    expect(ownerA).toBe(ownerB);
    expect(await b.findKey(echo1, 'key/with spaces ✓')).toBe(ownerA);
    expect(await a.findKey({ name: 'other', generation: 'g1' }, 'key/with spaces ✓')).toBeUndefined();
    // Another registration of the name (and one stored before generations) has keys of its own.
    expect(await a.findKey(echo2, 'key/with spaces ✓')).toBeUndefined();
    await a.claimKey(echo2, 'key/with spaces ✓', 'id-2');
    await a.claimKey(legacy, 'key/with spaces ✓', 'id-0');
    await a.forgetFunction(echo1);
    expect(await b.findKey(echo1, 'key/with spaces ✓')).toBeUndefined();
    expect(await b.findKey(echo2, 'key/with spaces ✓')).toBe('id-2');
    expect(await b.findKey(legacy, 'key/with spaces ✓')).toBe('id-0');
    await a.forgetFunction(legacy);
    expect(await b.findKey(legacy, 'key/with spaces ✓')).toBeUndefined();
    expect(await b.findKey(echo2, 'key/with spaces ✓')).toBe('id-2');
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
    const generation = changes[0]!.change.generation;
    expect(generation).toMatch(/^[0-9a-f]{12}$/);
    expect(changes[0]!.change).toEqual({ kind: 'put', spec: spec('alpha'), generation });
    expect(changes[0]!.at - t).toBeLessThan(1_000);

    t = Date.now();
    await a.save([spec('alpha', { concurrency: 9 })]);
    await next(2);
    // A change keeps the registration's generation.
    expect(changes[1]!.change).toMatchObject({ kind: 'put', spec: { name: 'alpha', concurrency: 9 }, generation });
    expect(changes[1]!.at - t).toBeLessThan(1_000);

    // B saving its own list (which has alpha, seen through the watch) leaves alpha alone.
    await b.save([spec('alpha', { concurrency: 9 }), spec('beta')]);
    await next(3);
    expect(changes[2]!.change).toMatchObject({ kind: 'put', spec: { name: 'beta' }, generation: b.generationOf('beta') });
    expect(b.generationOf('beta')).toMatch(/^[0-9a-f]{12}$/);
    expect(b.generationOf('beta')).not.toBe(generation);

    t = Date.now();
    await a.save([]);
    await next(4);
    // A deletion names the registration it ends.
    expect(changes[3]!.change).toEqual({ kind: 'delete', name: 'alpha', generation });
    expect(changes[3]!.at - t).toBeLessThan(1_000);
    // Registered again: a new registration, with a generation of its own.
    await a.save([spec('alpha')]);
    await next(5);
    expect(changes[4]!.change).toMatchObject({ kind: 'put', spec: spec('alpha') });
    expect(changes[4]!.change.generation).not.toBe(generation);
    // A had never seen beta (it was saved by B), so A's lists do not delete it. The generation is
    // stored beside the spec and never handed to the registry.
    const fresh = await KvFunctionStore.open(await client());
    const loaded = await fresh.load();
    expect(loaded.map((s) => s.name).sort()).toEqual(['alpha', 'beta']);
    expect(loaded.find((s) => s.name === 'beta')).toEqual(spec('beta'));
    expect(fresh.generationOf('beta')).toBe(b.generationOf('beta'));
    stop();
  });

  it('one new name saved through two replicas at once: one registration, the other refused FUNCTION_EXISTS', async () => {
    const a = await KvFunctionStore.open(await client());
    const b = await KvFunctionStore.open(await client());
    const results = await Promise.allSettled([a.save([spec('gamma')]), b.save([spec('gamma', { concurrency: 7 })])]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'FUNCTION_EXISTS' });
    const winner = results[0]!.status === 'fulfilled' ? a : b;
    const fresh = await KvFunctionStore.open(await client());
    expect((await fresh.load()).filter((s) => s.name === 'gamma')).toHaveLength(1);
    expect(fresh.generationOf('gamma')).toBe(winner.generationOf('gamma'));
    // Deleted, the name can be created again (a KV create over a deletion), with a new generation.
    const first = winner.generationOf('gamma');
    await winner.save([]);
    await winner.save([spec('gamma')]);
    expect(winner.generationOf('gamma')).toMatch(/^[0-9a-f]{12}$/);
    expect(winner.generationOf('gamma')).not.toBe(first);
  });
});
