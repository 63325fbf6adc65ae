/**
 * The JetStream work queue against a real nats-server: persisted publish, Nats-Msg-Id dedupe,
 * ack removes, nak redelivers after its delay, and max_ack_pending caps in-flight deliveries over
 * two connections (two replicas).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { type Delivery, INVOCATION_STREAM, type InvocationMessage, NatsWorkQueue } from '../../control-plane/src/nats/work-queue.js';
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

async function open(): Promise<{ client: NatsClient; queue: NatsWorkQueue }> {
  const client = await connectNats({ url: nats.url });
  clients.push(client);
  return { client, queue: await NatsWorkQueue.open(client, { duplicateWindowMs: 60_000 }) };
}

const spec = (name: string, over: Partial<{ concurrency: number; maxRetries: number; timeoutMs: number }> = {}) => ({
  name,
  concurrency: 1,
  maxRetries: 2,
  timeoutMs: 1_000,
  ...over,
});

/** Execution ids are UUIDs (the subject's last token): one per tag, the same for a tag throughout. */
const ids = new Map<string, string>();
const id = (tag: string): string => {
  if (!ids.has(tag)) ids.set(tag, randomUUID());
  return ids.get(tag)!;
};

/** The registration generation these tests run their functions as (registry-kv.ts makes real ones). */
const G = 'g1';
const reg = (name: string, generation = G) => ({ name, generation });

const message = (functionName: string, executionId: string, body = '{"input":1}', generation = G): InvocationMessage => ({
  executionId,
  functionName,
  generation,
  body,
  createdAt: 1_700_000_000_000,
  traceId: 'trace-1',
  idempotencyKey: undefined,
});

/** Collects deliveries and resolves waiters as they arrive (no sleeps). */
function inbox() {
  const got: Delivery[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    got,
    push(d: Delivery) {
      got.push(d);
      for (const w of waiters.filter((w) => got.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    until(n: number): Promise<void> {
      if (got.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

describe('NATS work queue', () => {
  it('stores a publish, reads it back by execution id, and dedupes a repeated Nats-Msg-Id', async () => {
    const { queue } = await open();
    await queue.ensureConsumer(spec('dedupe'), G);
    const first = await queue.publish(message('dedupe', id('e-1')), 'dedupe.key');
    const again = await queue.publish(message('dedupe', id('e-2')), 'dedupe.key');
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    const found = await queue.find(id('e-1'));
    expect(found).toMatchObject({ executionId: id('e-1'), functionName: 'dedupe', body: '{"input":1}', traceId: 'trace-1' });
    expect((await queue.at(first.seq))?.executionId).toBe(id('e-1'));
    expect(await queue.find(id('e-2'))).toBeUndefined();
    expect(await queue.depth(reg('dedupe'))).toEqual({ pending: 1, inFlight: 0 });
  });

  it('ack removes the invocation; nak redelivers it after the delay with the next attempt number', async () => {
    const { queue, client } = await open();
    await queue.ensureConsumer(spec('ack-nak'), G);
    await queue.publish(message('ack-nak', id('a-1')));
    const box = inbox();
    const stop = await queue.consume(reg('ack-nak'), 1, (d) => box.push(d));
    await box.until(1);
    expect(box.got[0]!.attempt).toBe(1);
    const nakAt = Date.now();
    box.got[0]!.nak(300);
    await box.until(2);
    expect(Date.now() - nakAt).toBeGreaterThanOrEqual(250);
    expect(box.got[1]!.attempt).toBe(2);
    expect(box.got[1]!.message.executionId).toBe(id('a-1'));
    await box.got[1]!.ack();
    await stop();
    expect(await queue.find(id('a-1'))).toBeUndefined();
    const info = await client.jsm.consumers.info(INVOCATION_STREAM, 'fn-ack-nak-g1');
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it('removing one registration (generation) leaves another one of the same name alone, and one stored before generations', async () => {
    const { queue, client } = await open();
    const old = reg('twice', 'g1');
    const current = reg('twice', 'g2');
    const legacy = reg('twice', '');
    for (const r of [old, current, legacy]) await queue.ensureConsumer(spec('twice'), r.generation);
    await queue.publish(message('twice', id('t-old'), '{}', 'g1'));
    await queue.publish(message('twice', id('t-new'), '{}', 'g2'));
    await queue.publish(message('twice', id('t-legacy'), '{}', ''));
    expect(await queue.find(id('t-new'))).toMatchObject({ executionId: id('t-new'), functionName: 'twice', generation: 'g2' });
    expect(await queue.find(id('t-legacy'))).toMatchObject({ executionId: id('t-legacy'), functionName: 'twice', generation: '' });
    const ended: string[] = [];
    expect(await queue.removeFunction(old, async (m) => void ended.push(m.executionId))).toBe(1);
    expect(ended).toEqual([id('t-old')]);
    expect(await queue.find(id('t-old'))).toBeUndefined();
    expect(await queue.depth(current)).toEqual({ pending: 1, inFlight: 0 });
    expect(await queue.depth(legacy)).toEqual({ pending: 1, inFlight: 0 });
    await expect(client.jsm.consumers.info(INVOCATION_STREAM, 'fn-twice-g1')).rejects.toThrow();
    // The legacy names (`fn-twice`, `nanofaas.inv.twice.<id>`) do not reach a generation's either.
    expect(await queue.removeFunction(legacy, async (m) => void ended.push(m.executionId))).toBe(1);
    expect(ended).toEqual([id('t-old'), id('t-legacy')]);
    expect(await queue.depth(current)).toEqual({ pending: 1, inFlight: 0 });
    expect((await queue.find(id('t-new')))?.generation).toBe('g2');
  });

  it('caps in-flight deliveries at concurrency over two replicas (max_ack_pending)', async () => {
    const a = await open();
    const b = await open();
    await a.queue.ensureConsumer(spec('capped', { concurrency: 3 }), G);
    for (let i = 0; i < 10; i++) await a.queue.publish(message('capped', id(`c-${i}`)));
    // Phase 1 holds every delivery: the server must stop at 3 over both replicas.
    let acking = false;
    const held: Delivery[] = [];
    const seen = inbox();
    const perReplica = { a: 0, b: 0 };
    const handler = (replica: 'a' | 'b') => (d: Delivery) => {
      perReplica[replica]++;
      if (acking) void d.ack();
      else held.push(d);
      seen.push(d);
    };
    const stopA = await a.queue.consume(reg('capped'), 3, handler('a'));
    const stopB = await b.queue.consume(reg('capped'), 3, handler('b'));
    await seen.until(3);
    expect(await a.queue.depth(reg('capped'))).toEqual({ pending: 7, inFlight: 3 });
    expect(seen.got).toHaveLength(3);
    // Phase 2: ack; the other 7 follow, each exactly once.
    acking = true;
    await Promise.all(held.map((d) => d.ack()));
    await seen.until(10);
    expect(new Set(seen.got.map((d) => d.message.executionId)).size).toBe(10);
    expect(seen.got.every((d) => d.attempt === 1)).toBe(true);
    expect(perReplica.a + perReplica.b).toBe(10);
    await stopA();
    await stopB();
    await expect.poll(() => a.queue.depth(reg('capped'))).toEqual({ pending: 0, inFlight: 0 });
  });

  it('a message carries headers only for a trace id, key or message id; the id and creation time come from the subject and the store', async () => {
    const { queue, client } = await open();
    await queue.ensureConsumer(spec('bare'), G);
    // Something else published on a function's subjects is not an invocation: its consumer ends it
    // unrun (first in the queue, so the real one is delivered only once it is gone: concurrency 1).
    await client.js.publish(`nanofaas.inv.bare.${G}.not-an-execution-id`, '{}');
    const before = Date.now();
    const plain = await queue.publish({ ...message('bare', id('bare-1')), traceId: undefined, createdAt: 0 });
    const stored = await client.jsm.streams.getMessage(INVOCATION_STREAM, { seq: plain.seq });
    expect(stored?.seq).toBe(plain.seq);
    expect([...(stored?.header?.keys() ?? [])]).toEqual([]);
    const found = await queue.find(id('bare-1'));
    expect(found).toMatchObject({ executionId: id('bare-1'), functionName: 'bare', traceId: undefined, idempotencyKey: undefined });
    expect(found!.createdAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(found!.createdAt).toBeLessThanOrEqual(Date.now() + 1_000);
    const box = inbox();
    const stop = await queue.consume(reg('bare'), 2, (d) => box.push(d));
    await box.until(1);
    await box.got[0]!.ack();
    await stop();
    expect(box.got.map((d) => d.message.executionId)).toEqual([id('bare-1')]);
    await expect.poll(() => queue.depth(reg('bare'))).toEqual({ pending: 0, inFlight: 0 });
  });
});
