/**
 * NATS mode: draining a deleted registration's backlog (every queued invocation ended
 * FUNCTION_DELETED, one stream read and delete each) does not hold up the next registration of
 * the same name on that replica. The drain is held at the work queue for as long as the test
 * wants; meanwhile the name is registered again, and an enqueue to it is accepted and runs.
 * Once the drain goes on, the old registration's queued invocations end FUNCTION_DELETED and the
 * one running when it was deleted ends with what the runtime answered.
 */
import { describe, expect, it } from 'vitest';
import { call, finalExecution } from '../control-plane/helpers.js';
import { onGate } from '../fixtures/fixture-runtime.js';
import { holdDrains, oneReplicaBed } from './replicas.js';

const bed = oneReplicaBed();
const NAME = 'reborn';

describe('NATS mode: re-registering a name while its old backlog drains', () => {
  it('the new registration takes enqueues and runs them before the old backlog is drained', async () => {
    const spec = { name: NAME, endpointUrl: bed.runtime.url, concurrency: 1 };
    expect((await call(bed.api, 'POST', '/v1/functions', spec)).status).toBe(201);
    // One call held in the runtime (concurrency 1), three queued behind it: the backlog.
    const old: string[] = [];
    for (let n = 0; n < 4; n++) {
      const answer = await call(bed.api, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { gate: 'old', n } });
      expect(answer.status).toBe(202);
      old.push(answer.body.executionId);
    }
    await bed.runtime.received(onGate('old'), 1);

    const drains = holdDrains();
    try {
      expect((await call(bed.api, 'DELETE', `/v1/functions/${NAME}`)).status).toBe(204);
      await drains.reached;
      expect((await call(bed.api, 'POST', '/v1/functions', spec)).status).toBe(201);
      // Before the drain could go on: accepted, run by the new registration's consumer, answered.
      const fresh = await call(bed.api, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { n: 'new' } });
      expect(fresh.status).toBe(202);
      expect(await finalExecution(bed.api, fresh.body.executionId)).toMatchObject({ status: 'success', attempts: 1 });
      // The old backlog is still there, held with its drain.
      const queued = await call(bed.api, 'GET', `/v1/executions/${old[3]}`);
      expect(queued.body.status).toBe('queued');
    } finally {
      drains.release();
      drains.restore();
    }
    for (const id of old.slice(1)) {
      expect(await finalExecution(bed.api, id)).toMatchObject({ status: 'error', error: { error: 'FUNCTION_DELETED' } });
    }
    bed.runtime.openGate('old');
    expect(await finalExecution(bed.api, old[0]!)).toMatchObject({ status: 'success' });
  }, 30_000);
});
