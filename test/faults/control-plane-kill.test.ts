/**
 * Fault: the control plane is SIGKILLed while an exec function has commands running and more
 * queued. Nothing can stop its runtimes for it, so they must go by themselves (docs/design.md §4.4: a
 * runtime exits on EOF of the stdin pipe the control plane held, taking its commands with it).
 * A control plane restarted on the same state directory must then leave nothing behind either.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { api, Cleanup, markedStateDir, register, startFaultControlPlane, waitReady } from './harness.js';
import { listing, markedCommands, markedProcesses, newMarker, waitUntilGone, waitUntilPresent } from './marked-processes.js';

const marker = newMarker();
const cleanup = new Cleanup([marker]);
afterAll(() => cleanup.run());

describe('control plane SIGKILL with work queued', () => {
  it('its runtimes and their commands exit by themselves; a restart on the same state dir leaves nothing', async () => {
    const stateDir = cleanup.dir(markedStateDir(marker));
    const cp = cleanup.plane(await startFaultControlPlane(stateDir));
    await register(cp.apiUrl, {
      name: 'sleeper',
      runtime: 'exec',
      runtimeMode: 'STDIO',
      handler: `sleep ${marker.token}`,
      timeoutMs: 120_000,
      concurrency: 2,
      replicas: 2,
      env: { FAULTS_MARKER: marker.tag, WATCHDOG_CONCURRENCY: '2' },
    });
    await waitReady(cp.apiUrl, 'sleeper');
    for (let i = 0; i < 5; i++) {
      const reply = await api(cp.apiUrl, 'POST', '/v1/functions/sleeper:enqueue', { input: { n: i } });
      expect(reply.status, reply.text).toBe(202);
    }
    const commands = await waitUntilPresent(() => markedCommands(marker), 2, 'running sleep commands');
    const generation1 = markedProcesses(marker).filter((p) => p.pid !== cp.child.pid);
    const runtimes = generation1.filter((p) => !commands.some((c) => c.pid === p.pid));
    expect(runtimes.length, listing(generation1)).toBeGreaterThanOrEqual(2);

    cp.child.kill('SIGKILL');
    await cp.exited;
    const orphans = await waitUntilGone(() => markedProcesses(marker));
    // Soft: the restart below must still run and show whether its own cleanup catches them.
    expect.soft(orphans, `left after the control plane died: ${listing(orphans)}`).toEqual([]);

    const restarted = cleanup.plane(await startFaultControlPlane(stateDir));
    // functions.json brings the function back; its new replicas prove the restart is whole.
    await waitReady(restarted.apiUrl, 'sleeper');
    const first = new Set(generation1.map((p) => p.pid));
    const stale = await waitUntilGone(() => markedProcesses(marker).filter((p) => first.has(p.pid)));
    expect(stale, `first generation still running after the restart: ${listing(stale)}`).toEqual([]);
    expect(markedCommands(marker), 'queued work does not survive a killed control plane').toEqual([]);

    expect(await restarted.stop('SIGTERM')).toBe(0);
    const left = await waitUntilGone(() => markedProcesses(marker));
    expect(left, listing(left)).toEqual([]);
  });
});
