/**
 * AckPublisher (control-plane/src/nats/ack-publisher.ts) against a real nats-server: what it
 * stores is what js.publish stores (its own HPUB frame, and the nc.publish fallback for a client
 * whose protocol handler it does not know), a repeated Nats-Msg-Id is answered as a duplicate of
 * the first sequence, a subject no stream listens on is refused, and a publish whose ack never
 * comes (the server is gone) is rejected after the timeout instead of waiting forever. quickAck
 * reads the server's usual PubAck and leaves anything else to JSON.parse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPublisher, MSG_ID_HEADER, quickAck } from '../../control-plane/src/nats/ack-publisher.js';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { type RunningNats, startNats } from './nats-server.js';

let nats: RunningNats;
let client: NatsClient;

beforeAll(async () => {
  nats = await startNats();
  client = await connectNats({ url: nats.url });
  const { RetentionPolicy, StorageType } = client.jetstreamModule;
  await client.jsm.streams.add({
    name: 'ACKPUB',
    subjects: ['ackpub.>'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: 60_000_000_000,
  });
});
afterAll(async () => {
  await client?.close();
  await nats?.close();
});

describe('AckPublisher', () => {
  it('stores the message as js.publish does, and answers a repeated Nats-Msg-Id with the first sequence', async () => {
    const publisher = new AckPublisher(client.nc, client.transportModule.createInbox());
    const h = client.transportModule.headers();
    h.set('X-Test', 'one');
    const mine = await publisher.publish('ackpub.a', '{"n":1}', h);
    const theirs = await client.js.publish('ackpub.b', '{"n":1}', { headers: h });
    expect(mine).toEqual({ seq: theirs.seq - 1, duplicate: false });
    const stored = await client.jsm.streams.getMessage('ACKPUB', { seq: mine.seq });
    const reference = await client.jsm.streams.getMessage('ACKPUB', { seq: theirs.seq });
    expect(stored?.string()).toBe(reference?.string());
    expect(stored?.header.get('X-Test')).toBe('one');

    const withId = () => {
      const hid = client.transportModule.headers();
      hid.set(MSG_ID_HEADER, 'same-id');
      return hid;
    };
    const first = await publisher.publish('ackpub.c', '{}', withId());
    const again = await publisher.publish('ackpub.c', '{}', withId());
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    publisher.close();
  });

  it('writes the frame itself (counted in the connection stats), and falls back to nc.publish with the same stored bytes', async () => {
    const direct = new AckPublisher(client.nc, client.transportModule.createInbox());
    // The same connection seen without its protocol handler: AckPublisher must use nc.publish.
    const nc = client.nc;
    const bare = new Proxy(nc, {
      get: (target, key) => {
        if (key === 'protocol') return undefined;
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const fallback = new AckPublisher(bare, client.transportModule.createInbox());
    const h = () => {
      const x = client.transportModule.headers();
      x.set('Nanofaas-Execution-Id', 'e-1');
      x.set('X-Unicode', 'é€');
      return x;
    };
    const body = '{"input":{"text":"naïve — ünïcödé"}}';
    const outBefore = nc.stats().outMsgs;
    const a = await direct.publish('ackpub.f', body, h());
    expect(nc.stats().outMsgs).toBe(outBefore + 1);
    const b = await fallback.publish('ackpub.g', body, h());
    const [sa, sb] = await Promise.all([a.seq, b.seq].map((seq) => client.jsm.streams.getMessage('ACKPUB', { seq })));
    expect(sa?.string()).toBe(body);
    expect(sb?.string()).toBe(body);
    expect(sa?.header.get('X-Unicode')).toBe('é€');
    expect(sa?.header.toString()).toBe(sb?.header.toString());
    direct.close();
    fallback.close();
  });

  it('reads the usual PubAck without JSON.parse and leaves any other shape to it', () => {
    expect(quickAck('{"stream":"NANOFAAS_INVOCATIONS","seq":12345}')).toEqual({ seq: 12345, duplicate: false });
    expect(quickAck('{"stream":"S","seq":7,"duplicate":true}')).toEqual({ seq: 7, duplicate: true });
    expect(quickAck('{"stream":"S","domain":"hub","seq":3}')).toEqual({ seq: 3, duplicate: false });
    for (const other of [
      '{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}',
      '{"stream":"S","seq":}',
      '{"stream":"","seq":1}',
      '{"stream":"S","seq":1,"val":"x"}',
      '{ "stream": "S", "seq": 1 }',
      '{"stream":"S","seq":1234567890123456}',
    ]) {
      expect(quickAck(other)).toBeUndefined();
    }
  });

  it('refuses a subject no stream listens on (no responders)', async () => {
    const publisher = new AckPublisher(client.nc, client.transportModule.createInbox());
    await expect(publisher.publish('nostream.x', '{}', client.transportModule.headers())).rejects.toThrow(/no responders/);
    publisher.close();
  });

  it('rejects after its timeout when no ack comes (server gone), and close() rejects what still waits', async () => {
    const other = await connectNats({ url: nats.url });
    const publisher = new AckPublisher(other.nc, other.transportModule.createInbox(), 300);
    const waiting = new AckPublisher(other.nc, other.transportModule.createInbox(), 60_000);
    await nats.stop('SIGKILL');
    try {
      const began = Date.now();
      await expect(publisher.publish('ackpub.d', '{}', other.transportModule.headers())).rejects.toThrow(/within 300 ms/);
      expect(Date.now() - began).toBeGreaterThanOrEqual(300);
      const pending = waiting.publish('ackpub.e', '{}', other.transportModule.headers());
      waiting.close();
      await expect(pending).rejects.toThrow(/closing/);
    } finally {
      publisher.close();
      await nats.restart();
      await other.close();
    }
  });
});
