/**
 * AckPublisher (control-plane/src/nats/ack-publisher.ts) against a real nats-server: what it
 * stores is what js.publish stores, a repeated Nats-Msg-Id is answered as a duplicate of the first
 * sequence, a subject no stream listens on is refused, and a publish whose ack never comes (the
 * server is gone) is rejected after the timeout instead of waiting forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPublisher, MSG_ID_HEADER } from '../../control-plane/src/nats/ack-publisher.js';
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
