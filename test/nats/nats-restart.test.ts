/**
 * nats-server itself restarts (SIGKILL, same store, same port) while async invocations are queued
 * and running: every invocation whose enqueue was acknowledged (what a 202 is sent for) ends
 * `success`, run by a runner that kept its connection object across the outage.
 */
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
import { type FixtureRuntime, startFixtureRuntime } from '../fixtures/fixture-runtime.js';
import { type RunningNats, startNats } from './nats-server.js';

let nats: RunningNats;
let runtime: FixtureRuntime;
let client: NatsClient;
let runner: NatsAsyncRunner;
let dispatcher: Dispatcher;

beforeAll(async () => {
  [nats, runtime] = await Promise.all([startNats(), startFixtureRuntime()]);
});
afterAll(async () => {
  await runner?.shutdown(1_000);
  await dispatcher?.close();
  await client?.close();
  await runtime?.close();
  await nats?.close();
});

describe('nats-server restart under load', () => {
  it('nothing acknowledged is lost', async () => {
    client = await connectNats({ url: nats.url });
    const queue = await NatsWorkQueue.open(client, { duplicateWindowMs: 60_000, ackWaitSlackMs: 500 });
    const store = await KvExecutionStore.open(client, { executionTtlMs: 600_000, idempotencyTtlMs: 600_000 });
    dispatcher = new Dispatcher();
    runner = new NatsAsyncRunner({
      client,
      queue,
      store,
      dispatcher,
      endpoints: () => [{ url: runtime.url, ready: true }],
      metrics: new Metrics(),
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      logger: { warn: () => undefined },
      ackWaitSlackMs: 500,
    });
    runner.start();
    const front = new NatsAsyncFront(queue, store);
    const spec: FunctionSpec = resolveSpec(
      { name: 'steady', endpointUrl: runtime.url, concurrency: 4, maxRetries: 3, timeoutMs: 2_000 },
      { timeoutMs: 2_000, concurrency: 4, queueSize: 10_000, maxRetries: 3 },
    );
    await runner.upsertFunction(spec, 'g1');

    const accepted: string[] = [];
    let refused = 0;
    let restarted = false;
    const enqueueAll = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        try {
          accepted.push(
            await front.enqueue({ name: 'steady', generation: 'g1' }, JSON.stringify({ input: { sleepMs: 1, n: i } }), {
              traceId: undefined,
              idempotencyKey: undefined,
            }),
          );
        } catch {
          refused++; // not acknowledged: a client would have had no 202 and retries
        }
      }
    };
    // Producer and restart run at once: the restart lands while work is queued and running.
    const producer = enqueueAll(0, 600);
    await runtime.received((r) => r.executionId !== undefined, 100);
    await nats.restart();
    restarted = true;
    await producer;
    await enqueueAll(600, 700);
    expect(restarted).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(100);

    const finals = await Promise.all(
      accepted.map(async (id) => {
        for (;;) {
          const status = await front.status(id, 20_000);
          if (status && ['success', 'error', 'timeout'].includes(status.status)) return status;
        }
      }),
    );
    expect(finals.filter((f) => f.status !== 'success')).toEqual([]);
    const called = new Set(runtime.requests.map((r) => r.executionId));
    for (const id of accepted) expect(called.has(id)).toBe(true);
    console.log(`nats restart: ${accepted.length} acknowledged, ${refused} refused during the outage, all ${finals.length} ended success`);
  }, 120_000);
});
