/**
 * NATS mode: a deleted function's queued invocations end FUNCTION_DELETED even when the replica
 * draining them stops before it is done. The drain is held at the work queue, the only replica is
 * closed while it is held, and the replica started afterwards drains what the ledger
 * (drain-ledger.ts) still holds. A note whose registration is still in the registry (its deletion
 * never written) is left alone: that function keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { DrainLedger } from '../../control-plane/src/nats/drain-ledger.js';
import { REGISTRY_BUCKET } from '../../control-plane/src/nats/registry-kv.js';
import { call, finalExecution, until } from '../control-plane/helpers.js';
import { type FixtureRuntime, onGate, startFixtureRuntime } from '../fixtures/fixture-runtime.js';
import { type RunningNats, startNats } from './nats-server.js';
import { holdDrains, natsReplicas } from './replicas.js';

const GONE = 'gone';
const KEPT = 'kept';

describe('NATS mode: a drain cut short by a stop is finished by the next start', () => {
  const replicas = natsReplicas();
  let nats: RunningNats;
  let runtime: FixtureRuntime;
  let client: NatsClient;

  beforeAll(async () => {
    [nats, runtime] = await Promise.all([startNats(), startFixtureRuntime()]);
    client = await connectNats({ url: nats.url });
  });
  afterAll(async () => {
    await replicas.closeAll();
    await client?.close();
    await runtime?.close();
    await nats?.close();
  });

  it('the next replica to start ends the deleted function’s backlog FUNCTION_DELETED, and leaves a registered one alone', async () => {
    const first = await replicas.start(nats.url);
    const api = first.urls.apiUrl;
    for (const name of [GONE, KEPT]) {
      expect((await call(api, 'POST', '/v1/functions', { name, endpointUrl: runtime.url, concurrency: 1 })).status).toBe(201);
    }
    // One call held in the runtime (concurrency 1), three queued behind it.
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) {
      const answer = await call(api, 'POST', `/v1/functions/${GONE}:enqueue`, { input: { gate: 'held', n } });
      expect(answer.status).toBe(202);
      ids.push(answer.body.executionId);
    }
    await runtime.received(onGate('held'), 1);

    const ledger = await DrainLedger.open(client);
    // A note for a registration that is still registered: as if its deletion had failed after it.
    const kept = await (await client.kvm.open(REGISTRY_BUCKET)).get(KEPT);
    const keptGeneration = (kept!.json() as { generation: string }).generation;
    await ledger.note({ name: KEPT, generation: keptGeneration });

    const drains = holdDrains();
    try {
      expect((await call(api, 'DELETE', `/v1/functions/${GONE}`)).status).toBe(204);
      await drains.reached;
      const noted = await ledger.pending();
      expect(noted.map((r) => r.name).sort()).toEqual([GONE, KEPT]);
      // The running call ends here as the runtime answers; the three behind it stay queued.
      runtime.openGate('held');
      expect(await finalExecution(api, ids[0]!)).toMatchObject({ status: 'success' });
      for (const id of ids.slice(1)) expect((await call(api, 'GET', `/v1/executions/${id}`)).body.status).toBe('queued');
      await first.cp.close();
    } finally {
      drains.restore();
      // The held drain goes on against a closed connection and fails; its note stays.
      drains.release();
    }
    expect((await ledger.pending()).map((r) => r.name).sort()).toEqual([GONE, KEPT]);

    const second = await replicas.start(nats.url);
    const api2 = second.urls.apiUrl;
    for (const id of ids.slice(1)) {
      expect(await finalExecution(api2, id)).toMatchObject({ status: 'error', error: { error: 'FUNCTION_DELETED' } });
    }
    // The finished drain took its note off; the registered function's note stays, and it runs.
    const left = await until(async () => {
      const pending = await ledger.pending();
      return pending.some((r) => r.name === GONE) ? undefined : pending;
    });
    expect(left).toEqual([{ name: KEPT, generation: keptGeneration }]);
    const call2 = await call(api2, 'POST', `/v1/functions/${KEPT}:enqueue`, { input: { n: 'after' } });
    expect(call2.status).toBe(202);
    expect(await finalExecution(api2, call2.body.executionId)).toMatchObject({ status: 'success' });
  }, 60_000);
});
