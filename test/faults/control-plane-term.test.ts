/**
 * Fault: SIGTERM to a control plane with an exec command running and more work queued. A graceful
 * stop answers every caller with SHUTTING_DOWN (queued at once, running after the grace period),
 * exits 0, and stops every process it started, the runtime's commands included (docs/design.md §4.4).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../control-plane/helpers.js';
import {
  api,
  Cleanup,
  isFormattedError,
  markedStateDir,
  metric,
  register,
  startFaultControlPlane,
  waitReady,
  type Reply,
} from './harness.js';
import { listing, markedCommands, markedProcesses, newMarker, waitUntilGone, waitUntilPresent } from './marked-processes.js';

const marker = newMarker();
const cleanup = new Cleanup([marker]);
afterAll(() => cleanup.run());

const SYNC = 3;
const ASYNC = 2;

describe('control plane SIGTERM with work queued', () => {
  it('ends queued and running work as SHUTTING_DOWN, exits 0 and leaves no process', async () => {
    const stateDir = cleanup.dir(markedStateDir(marker));
    // Queued sync calls must still be waiting when the signal comes, however slow the machine.
    const cp = cleanup.plane(await startFaultControlPlane(stateDir, { SYNC_QUEUE_MAX_QUEUE_WAIT_MS: '60000' }));
    await register(cp.apiUrl, {
      name: 'sleeper',
      runtime: 'exec',
      runtimeMode: 'STDIO',
      handler: `sleep ${marker.token}`,
      timeoutMs: 120_000,
      concurrency: 1,
      maxRetries: 0,
      env: { FAULTS_MARKER: marker.tag, WATCHDOG_CONCURRENCY: '1' },
    });
    await waitReady(cp.apiUrl, 'sleeper');

    const asyncIds: string[] = [];
    for (let i = 0; i < ASYNC; i++) {
      const reply = await api(cp.apiUrl, 'POST', '/v1/functions/sleeper:enqueue', { input: { n: i } });
      expect(reply.status, reply.text).toBe(202);
      asyncIds.push(reply.body.executionId);
    }
    // Long-polls answered by the shutdown itself: an open connection is the only place the
    // outcome of a queued execution can be seen, since the records die with the process.
    const polls = asyncIds.map((id) => api(cp.apiUrl, 'GET', `/v1/executions/${id}?waitMs=30000`, undefined, 20_000));
    const calls = Array.from({ length: SYNC }, (_, i) =>
      api(cp.apiUrl, 'POST', '/v1/functions/sleeper:invoke', { input: { n: i } }, 20_000),
    );
    await waitUntilPresent(() => markedCommands(marker), 1, 'the running sleep command');
    // Every call accepted (counted once each) before the signal; the metric is the only view of it.
    await until(
      async () => (await metric(cp.managementUrl, 'function_enqueue_total', 'sleeper')) === SYNC + ASYNC,
      10_000,
      'all calls accepted',
    );

    cp.child.kill('SIGTERM');
    const code = await cp.exited;
    expect(code, cp.output.join('\n')).toBe(0);
    expect(cp.output.some((line) => line.includes('shutting down'))).toBe(true);

    const syncReplies = await Promise.all(calls);
    const wrongSync = syncReplies.filter((r) => r.status !== 503 || !isFormattedError(r) || r.body.error !== 'SHUTTING_DOWN');
    expect(wrongSync.map((r) => `${r.status} ${r.text}`)).toEqual([]);

    const pollReplies = await Promise.all(polls);
    // A long-poll the server saw gets the terminal record; one that came in after the signal is
    // refused in format. Either way it says SHUTTING_DOWN.
    const endedByShutdown = (r: Reply) =>
      (r.status === 200 && r.body?.status === 'error' && r.body?.error?.error === 'SHUTTING_DOWN') ||
      (r.status === 503 && isFormattedError(r) && r.body.error === 'SHUTTING_DOWN');
    expect(pollReplies.filter((r) => !endedByShutdown(r)).map((r) => `${r.status} ${r.text}`)).toEqual([]);

    const left = await waitUntilGone(() => markedProcesses(marker));
    expect(left, listing(left)).toEqual([]);
  });
});
