/**
 * Fault: a function container is killed (`docker kill`, SIGKILL) while sync and async traffic
 * flows through a control plane on the docker backend. The Engine's die event must make the
 * replica not ready at once, the backend must start a new container, every sync caller must get
 * an answer in the platform's format (a success, or a retryable 502/503/504, never for a call
 * started after the replacement was ready), every accepted async execution must succeed, and
 * afterwards every call succeeds. The process backend's version of this test is test/faults/runtime-kill.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../control-plane/helpers.js';
import { api, awaitTerminal, inPool, isFormattedError, register, type Reply, waitReady } from '../faults/harness.js';
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
    // Async retries back off as in production (100 ms base, not the test helpers' 20 ms): the death
    // reaches the backend as an Engine event, tens of milliseconds after the kill, and retries
    // spent faster than that on the dead container would be a test of the clock, not of recovery.
    cp = await startDockerControlPlane(owner, {
      SYNC_QUEUE_ADMISSION_ENABLED: 'false',
      SYNC_QUEUE_MAX_QUEUE_WAIT_MS: '15000',
      NANOFAAS_RETRY_BASE_DELAY_MS: '100',
      NANOFAAS_RETRY_MAX_DELAY_MS: '2000',
    });
    const base = cp.apiUrl;
    await register(base, {
      name: 'victim',
      image: NODE_IMAGE,
      concurrency: CONCURRENCY,
      queueSize: 2_000,
      timeoutMs: 15_000,
      // Room for the outage on a loaded machine: 100 ms doubling to 2 s caps, 13 s of back-off in all.
      maxRetries: 10,
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
    const syncCall = async (): Promise<(Reply & { startedAt: number }) | undefined> => {
      const startedAt = Date.now();
      try {
        return { ...(await api(base, 'POST', '/v1/functions/victim:invoke', input, 30_000)), startedAt };
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
    const replies = syncReplies.filter((r) => r !== undefined);
    const malformed = replies.filter((r) =>
      r.status === 200 ? r.body?.status !== 'success' || r.body?.output?.wordCount !== 10 : !isFormattedError(r),
    );
    expect(malformed.map((r) => `${r.status} ${r.text}`)).toEqual([]);
    // Calls that were running in the container when it died, or were sent over a kept-alive
    // connection before the Engine's die event reached the backend, fail with a retryable code;
    // none that started once the replacement was ready.
    const failed = replies.filter((r) => r.status !== 200);
    expect(failed.filter((r) => ![502, 503, 504].includes(r.status)).map((r) => `${r.status} ${r.text}`)).toEqual([]);
    const readyAt = cp.output
      .map((line) => {
        try {
          return JSON.parse(line) as { msg?: string; time?: number };
        } catch {
          return {};
        }
      })
      .filter((l) => l.msg === 'docker backend: replica ready')
      .map((l) => l.time as number);
    expect(readyAt).toHaveLength(2);
    const replacedAt = readyAt[1] as number;
    expect(failed.filter((r) => r.startedAt >= replacedAt).map((r) => `${r.status} ${r.text}`)).toEqual([]);

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
