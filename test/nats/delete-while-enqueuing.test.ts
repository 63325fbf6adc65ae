/**
 * NATS mode: an `:enqueue` whose publish is acknowledged only after the function was deleted on
 * the same replica must still end with a recorded outcome (FUNCTION_DELETED), never stay queued
 * with no consumer left to run it (docs/design.md §3.12). The window is made deterministic: the
 * publish is held at the work queue until the delete's removal has read and purged the stream.
 */
import { describe, expect, it } from 'vitest';
import { NatsWorkQueue } from '../../control-plane/src/nats/work-queue.js';
import { call, finalExecution } from '../control-plane/helpers.js';
import { oneReplicaBed } from './replicas.js';

const bed = oneReplicaBed();
const NAME = 'vanishing';

describe('NATS mode: delete while an enqueue is being published', () => {
  it('the invocation ends FUNCTION_DELETED, not queued forever', async () => {
    expect((await call(bed.api, 'POST', '/v1/functions', { name: NAME, endpointUrl: bed.runtime.url })).status).toBe(201);

    const publish = NatsWorkQueue.prototype.publish;
    const removeFunction = NatsWorkQueue.prototype.removeFunction;
    let held!: () => void;
    const reachedPublish = new Promise<void>((resolve) => (held = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let removed!: () => void;
    const removalDone = new Promise<void>((resolve) => (removed = resolve));
    NatsWorkQueue.prototype.publish = async function (this: NatsWorkQueue, ...args: Parameters<typeof publish>) {
      if (args[0].functionName === NAME) {
        held();
        await gate;
      }
      return publish.apply(this, args);
    };
    NatsWorkQueue.prototype.removeFunction = async function (this: NatsWorkQueue, ...args: Parameters<typeof removeFunction>) {
      const drained = await removeFunction.apply(this, args);
      removed();
      return drained;
    };
    try {
      const enqueued = call(bed.api, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { n: 1 } });
      await reachedPublish;
      expect((await call(bed.api, 'DELETE', `/v1/functions/${NAME}`)).status).toBe(204);
      await removalDone;
      openGate();
      const answer = await enqueued;
      expect(answer.status, answer.text).toBe(202);
      const final = await finalExecution(bed.api, answer.body.executionId);
      expect(final.status).toBe('error');
      expect(final.error.error).toBe('FUNCTION_DELETED');
      // It never ran: the runtime saw no call.
      expect(bed.runtime.requests.filter((r) => r.executionId === answer.body.executionId)).toEqual([]);
    } finally {
      NatsWorkQueue.prototype.publish = publish;
      NatsWorkQueue.prototype.removeFunction = removeFunction;
    }
  });
});
