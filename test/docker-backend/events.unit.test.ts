/**
 * The Engine event watcher against an in-process stand-in for the Engine: streams it hands out
 * are PassThroughs the test writes Engine events into and ends, as a restarting dockerd would.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Engine, EventsQuery } from '../../control-plane/src/workloads/docker/engine.js';
import { startEventsWatcher, type ContainerExit } from '../../control-plane/src/workloads/docker/events.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function fakeEngine() {
  const queries: EventsQuery[] = [];
  const streams: PassThrough[] = [];
  const opened = new PassThrough({ objectMode: true });
  let failures = 0;
  const engine = {
    socketPath: '/nowhere.sock',
    async events(query: EventsQuery) {
      queries.push(query);
      if (failures > 0) {
        failures--;
        throw new Error('connect ENOENT /nowhere.sock');
      }
      const stream = new PassThrough();
      streams.push(stream);
      opened.write(stream);
      return stream;
    },
  } as unknown as Engine;
  return {
    engine,
    queries,
    failNext: (n: number) => {
      failures = n;
    },
    nextStream: async () => (await once(opened, 'data'))[0] as PassThrough,
  };
}

const event = (action: string, id: string, timeNano: number, exitCode = '0') =>
  `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { exitCode } }, timeNano })}\n`;

describe('docker backend: Engine events', () => {
  it('reports a watched container death once, with its exit code and whether it was OOM-killed', async () => {
    const fake = fakeEngine();
    const watcher = startEventsWatcher({ engine: fake.engine, labels: { 'dev.nanofaas.owner': 'o' }, logger: silent, onResync() {} });
    const stream = await fake.nextStream();
    expect(fake.queries[0]?.filters).toEqual({ type: ['container'], event: ['die', 'oom'], label: ['dev.nanofaas.owner=o'] });
    const exits: ContainerExit[] = [];
    const died = new Promise<void>((resolve) =>
      watcher.watch('c1', (exit) => {
        exits.push(exit);
        resolve();
      }),
    );
    stream.write(event('die', 'other', 1e18, '1'));
    // A line split across chunks, as a socket may deliver it.
    const text = event('oom', 'c1', 2e18) + event('die', 'c1', 3e18, '137');
    stream.write(text.slice(0, 20));
    stream.write(text.slice(20));
    stream.write(event('die', 'c1', 4e18, '0'));
    await died;
    await watcher.stop();
    expect(exits).toEqual([{ exitCode: 137, oomKilled: true }]);
  });

  it('reconnects when the stream ends or the Engine is unreachable, replays from the last event and resyncs', async () => {
    const fake = fakeEngine();
    let resyncs = 0;
    const watcher = startEventsWatcher({
      engine: fake.engine,
      labels: { 'dev.nanofaas.owner': 'o' },
      logger: silent,
      onResync: () => resyncs++,
      initialDelayMs: 1,
      maxDelayMs: 2,
    });
    const first = await fake.nextStream();
    // An event stamped ahead of the watcher's own start time, so the replay point is this event's.
    const seen = Math.round((Date.now() / 1000 + 60) * 1e3) * 1e6;
    first.write(event('die', 'unwatched', seen));
    const exit = new Promise<ContainerExit>((resolve) => watcher.watch('c2', resolve));
    fake.failNext(2);
    first.end();
    const second = await fake.nextStream();
    // Two failed attempts, then the third connected, asking for what it missed.
    expect(fake.queries.length).toBe(4);
    expect(fake.queries[3]?.since).toBeCloseTo(seen / 1e9, 3);
    expect(resyncs).toBe(1);
    second.write(event('die', 'c2', seen + 1e9, '2'));
    expect(await exit).toEqual({ exitCode: 2, oomKilled: false });
    await watcher.stop();
  });
});
