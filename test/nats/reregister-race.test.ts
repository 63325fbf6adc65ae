/**
 * NATS mode, two replicas: a function deleted and registered again at once must keep the new
 * registration's invocations, consumer and idempotency keys, however late another replica handles
 * the delete (docs/design.md §3.12, "registration generation"). The late handling is made
 * deterministic: replica B's registry changes from the watch are held (in order, as a slow watch
 * would deliver them) until A has deleted, re-registered and queued work, then let through.
 * Before generations, B's late removal deleted consumer `fn-<F>`, ended the new invocations as
 * FUNCTION_DELETED and forgot the new registration's idempotency keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control-plane/src/control-plane.js';
import { connectNats } from '../../control-plane/src/nats/client.js';
import { INVOCATION_STREAM } from '../../control-plane/src/nats/work-queue.js';
import { call, finalExecution, until } from '../control-plane/helpers.js';
import { type FixtureRuntime, onGate, startFixtureRuntime } from '../fixtures/fixture-runtime.js';
import { type RunningNats, startNats } from './nats-server.js';
import { natsReplicas } from './replicas.js';

let nats: RunningNats;
let runtime: FixtureRuntime;
const replicas = natsReplicas();
const replica = () => replicas.start(nats.url, { NANOFAAS_NATS_ACK_WAIT_SLACK_MS: '500' });

beforeAll(async () => {
  [nats, runtime] = await Promise.all([startNats(), startFixtureRuntime()]);
});
afterAll(async () => {
  await replicas.closeAll();
  await runtime?.close();
  await nats?.close();
});

type Change = Parameters<ControlPlane['registry']['applyRemote']>[0];

/** Holds the registry changes B's watch delivers, in order, until `release()` applies them all. */
function holdRemoteChanges(cp: ControlPlane) {
  const apply = cp.registry.applyRemote.bind(cp.registry);
  const held: Change[] = [];
  const waiters: (() => void)[] = [];
  cp.registry.applyRemote = async (change) => {
    held.push(change);
    for (const w of waiters.splice(0)) w();
  };
  return {
    /** Resolves once a held change matches. */
    seen: (match: (c: Change) => boolean) =>
      new Promise<void>((resolve) => {
        const check = (): void => (held.some(match) ? resolve() : void waiters.push(check));
        check();
      }),
    /** Lets the held changes through, in the order the watch delivered them (as it would: not awaited one by one). */
    release: async () => {
      cp.registry.applyRemote = apply;
      await Promise.all(held.map((c) => apply(c)));
    },
  };
}

const NAME = 'reborn';
const spec = (runtimeUrl: string) => ({ name: NAME, endpointUrl: runtimeUrl, concurrency: 1, queueSize: 100, timeoutMs: 10_000 });

describe('NATS mode: delete then re-register with two replicas', () => {
  it('a replica’s late handling of the delete leaves the new registration’s invocations, consumer and keys alone', async () => {
    const a = await replica();
    const b = await replica();

    expect((await call(a.urls.apiUrl, 'POST', '/v1/functions', spec(runtime.url))).status).toBe(201);
    await until(() => b.cp.registry.get(NAME), 5_000, 'B knows the first registration');
    // B consumes the first registration too (its enqueue waits for its consumer to be set up).
    const warm = await call(b.urls.apiUrl, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { n: 'warm' } });
    expect(warm.status).toBe(202);
    expect((await finalExecution(a.urls.apiUrl, warm.body.executionId)).status).toBe('success');

    // From here on B learns nothing from the registry until release().
    const hold = holdRemoteChanges(b.cp);
    expect((await call(a.urls.apiUrl, 'DELETE', `/v1/functions/${NAME}`)).status).toBe(204);
    await hold.seen((c) => c.kind === 'delete');
    expect((await call(a.urls.apiUrl, 'POST', '/v1/functions', spec(runtime.url))).status).toBe(201);
    await hold.seen((c) => c.kind === 'put');

    // The new registration's work, through A: a keyed one first (concurrency 1: it runs, held at
    // the runtime's gate, its key claimed before the call), the rest queued behind it.
    const keyed = await call(
      a.urls.apiUrl,
      'POST',
      `/v1/functions/${NAME}:enqueue`,
      { input: { gate: 'late', n: 0 } },
      { 'Idempotency-Key': 'k-1' },
    );
    expect(keyed.status).toBe(202);
    const ids: string[] = [keyed.body.executionId];
    await runtime.received((r) => r.executionId === ids[0]);
    for (let n = 1; n <= 4; n++) {
      const answer = await call(a.urls.apiUrl, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { gate: 'late', n } });
      expect(answer.status, answer.text).toBe(202);
      ids.push(answer.body.executionId);
    }

    // B's late handling: the delete (of the first registration), then the re-registration. An
    // enqueue through B waits for B's consumer changes in progress, so its 202 means the removal
    // has run.
    await hold.release();
    const throughB = await call(b.urls.apiUrl, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { gate: 'late', n: 'b' } });
    expect(throughB.status).toBe(202);
    ids.push(throughB.body.executionId);

    // The key still answers with its execution, through either replica.
    for (const url of [a.urls.apiUrl, b.urls.apiUrl]) {
      const again = await call(
        url,
        'POST',
        `/v1/functions/${NAME}:enqueue`,
        { input: { gate: 'late', n: 0 } },
        { 'Idempotency-Key': 'k-1' },
      );
      expect(again.status).toBe(202);
      expect.soft(again.body.executionId).toBe(ids[0]);
    }

    runtime.openGate('late');
    const finals = await Promise.all(ids.map((id) => finalExecution(a.urls.apiUrl, id)));
    expect.soft(finals.map((f) => [f.status, f.error?.error ?? null])).toEqual(ids.map(() => ['success', null]));
    // None lost: each reached the runtime.
    const called = new Set(runtime.requests.filter(onGate('late')).map((r) => r.executionId));
    expect(ids.filter((id) => !called.has(id))).toEqual([]);

    // The new registration's consumer is there (the first one's is gone), and it still runs work.
    const client = await connectNats({ url: nats.url });
    try {
      const consumers: { name: string; filter: string | undefined }[] = [];
      for await (const c of client.jsm.consumers.list(INVOCATION_STREAM)) {
        consumers.push({ name: c.name, filter: c.config.filter_subject });
      }
      const ofFunction = consumers.filter((c) => c.filter?.startsWith(`nanofaas.inv.${NAME}.`));
      expect(ofFunction).toHaveLength(1);
    } finally {
      await client.close();
    }
    const after = await call(a.urls.apiUrl, 'POST', `/v1/functions/${NAME}:enqueue`, { input: { n: 'after' } });
    expect(after.status).toBe(202);
    expect((await finalExecution(b.urls.apiUrl, after.body.executionId)).status).toBe('success');
  }, 60_000);

  it('through one replica, deleted and registered again back to back: each registration runs its own work, keys start afresh', async () => {
    const a = await replica();
    const b = await replica();
    const name = 'again';
    const ids: string[] = [];
    const keyed: string[] = [];
    for (let round = 0; round < 5; round++) {
      const reg = await call(a.urls.apiUrl, 'POST', '/v1/functions', { ...spec(runtime.url), name, concurrency: 2 });
      expect(reg.status, reg.text).toBe(201);
      // A's own delete and registration coming back through its watch (at any moment, here
      // right after them) must not remove the registration that follows.
      for (let n = 0; n < 3; n++) {
        const answer = await call(a.urls.apiUrl, 'POST', `/v1/functions/${name}:enqueue`, { input: { round, n } });
        expect(answer.status, answer.text).toBe(202);
        ids.push(answer.body.executionId);
      }
      const withKey = await call(
        a.urls.apiUrl,
        'POST',
        `/v1/functions/${name}:enqueue`,
        { input: { round } },
        { 'Idempotency-Key': 'same' },
      );
      expect(withKey.status, withKey.text).toBe(202);
      keyed.push(withKey.body.executionId);
      expect((await finalExecution(a.urls.apiUrl, withKey.body.executionId)).status).toBe('success');
      for (const id of ids.slice(-3)) expect((await finalExecution(b.urls.apiUrl, id)).status).toBe('success');
      expect((await call(a.urls.apiUrl, 'DELETE', `/v1/functions/${name}`)).status).toBe(204);
    }
    // One key, one execution per registration: a new registration starts with no keys.
    expect(new Set(keyed).size).toBe(5);
    await until(() => b.cp.registry.get(name) === undefined, 5_000, 'B learns the last delete');
  }, 60_000);
});
