/**
 * Fault: a function container is killed (`docker kill`, SIGKILL) while sync and async traffic
 * flows through a control plane on the docker backend. The Engine's die event must make the
 * replica not ready at once, the backend must start a new container, every sync caller must get
 * an answer in the platform's format (a success, or a retryable 502/503/504 only for calls in
 * flight at the kill), every accepted async execution must succeed, and afterwards every call
 * succeeds. The process backend's version of this test is test/faults/runtime-kill.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../control-plane/helpers.js';
import { api, awaitTerminal, inPool, isFormattedError, register, waitReady, type Reply } from '../faults/harness.js';
import {
  docker,
  inspect,
  NODE_IMAGE,
  ownedContainers,
  removeOwned,
  requireImages,
  startDockerControlPlane,
  uniqueOwner,
} from './helpers.js';

const owner = uniqueOwner();
let cp: RunningControlPlane | undefined;

beforeAll(() => requireImages(NODE_IMAGE));

afterAll(async () => {
  await cp?.stop('SIGKILL');
  await removeOwned(owner);
  expect(await ownedContainers(owner)).toEqual([]);
});

const SYNC_CALLS = 200;
const ASYNC_CALLS = 300;
const CLIENTS = 16;
const CONCURRENCY = 8;
/** The kill lands after this many sync answers: mid-load, with most of the traffic still to come. */
const KILL_AFTER = 60;
const input = { input: 'to be or not to be that is the question' };

describe('function container killed under load', () => {
  it('is replaced; callers get answers in format, async executions all succeed, and then every call does', async () => {
    cp = await startDockerControlPlane(owner, { SYNC_QUEUE_ADMISSION_ENABLED: 'false', SYNC_QUEUE_MAX_QUEUE_WAIT_MS: '15000' });
    const base = cp.apiUrl;
    await register(base, {
      name: 'victim',
      image: NODE_IMAGE,
      concurrency: CONCURRENCY,
      queueSize: 2_000,
      timeoutMs: 15_000,
      maxRetries: 3,
    });
    await waitReady(base, 'victim', 30_000);
    const name = `nanofaas-${owner}-fn-victim-0`;
    const before = await inspect(name);
    expect(before.State.Running).toBe(true);

    let answered = 0;
    let kill: Promise<string> | undefined;
    let killed = false;
    let answeredAfterKill = 0;
    const hung: string[] = [];
    const syncCall = async (): Promise<Reply | undefined> => {
      try {
        return await api(base, 'POST', '/v1/functions/victim:invoke', input, 30_000);
      } catch (err) {
        hung.push((err as Error).message);
        return undefined;
      } finally {
        if (killed) answeredAfterKill++;
        if (++answered === KILL_AFTER) {
          kill = docker('kill', before.Id);
          void kill.then(() => {
            killed = true;
          });
        }
      }
    };
    const enqueue = () => api(base, 'POST', '/v1/functions/victim:enqueue', input);
    const [syncReplies, enqueued] = await Promise.all([inPool(SYNC_CALLS, CLIENTS, syncCall), inPool(ASYNC_CALLS, CLIENTS, enqueue)]);
    expect(kill, 'the kill was sent').toBeDefined();
    await kill;
    // The Engine had killed it while sync traffic still flowed.
    expect(answeredAfterKill).toBeGreaterThan(0);

    expect(hung).toEqual([]);
    const replies = syncReplies.filter((r): r is Reply => r !== undefined);
    const malformed = replies.filter((r) =>
      r.status === 200 ? r.body?.status !== 'success' || r.body?.output?.wordCount !== 10 : !isFormattedError(r),
    );
    expect(malformed.map((r) => `${r.status} ${r.text}`)).toEqual([]);
    const failed = replies.filter((r) => r.status !== 200);
    // Only calls in flight when the container died may fail; the rest wait for the new one.
    expect(failed.length, failed.map((r) => `${r.status} ${r.text}`).join('\n')).toBeLessThanOrEqual(CONCURRENCY);
    expect(failed.filter((r) => ![502, 503, 504].includes(r.status)).map((r) => `${r.status} ${r.text}`)).toEqual([]);

    expect(enqueued.filter((r) => r.status !== 202).map((r) => `${r.status} ${r.text}`)).toEqual([]);
    const finals = await inPool(enqueued.length, 32, (i) => awaitTerminal(base, enqueued[i]!.body.executionId, 60_000));
    expect(finals.filter((e) => e.status !== 'success').map((e) => `${e.executionId} ${e.status} ${JSON.stringify(e.error)}`)).toEqual([]);

    // Recovery: a new container under the same name; the killed one is gone; the restart is counted.
    const status = await waitReady(base, 'victim', 30_000);
    expect(status.message).toMatch(/^1 restart \(last: a container exited with code 137\)$/);
    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect(after.State.Running).toBe(true);
    await expect(inspect(before.Id)).rejects.toThrow();
    const again = await inPool(40, 8, () => api(base, 'POST', '/v1/functions/victim:invoke', input));
    expect(again.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([]);

    expect(await cp.stop('SIGTERM')).toBe(0);
    expect(await ownedContainers(owner)).toEqual([]);
  });
});
