/**
 * Ctrl-C in a terminal. Real pseudo-terminals (util-linux `script`): the \x03 typed
 * into them reaches the CLI as the terminal's SIGINT, as it does for a user.
 * - An interrupted `up` restores the cursor, prints one line and exits 130.
 * - The control plane is recorded the moment it is spawned (before its "listening" line), so
 *   nothing it started is ever untracked; an interrupt before it listens stops it again, and
 *   `status` and `down` agree that nothing runs.
 * - A second Ctrl-C exits at once, cursor shown.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateDir } from '../../src/state/state-dir.js';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { cliEnv, inPty, nanofaas, nanofaasInPty } from './cli-process.js';

const HIDE = '\x1b[?25l';
const SHOW = '\x1b[?25h';
const fixtures = join(import.meta.dirname, 'fixtures');
const dirs: string[] = [];
afterAll(async () => {
  for (const state of dirs) {
    if (findOwnedProcesses(state).length > 0) await nanofaas(['down'], cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state }));
    rmSync(state, { recursive: true, force: true });
  }
}, 60_000);

/** The terminal was left with the cursor shown: a show comes after the last hide. */
function cursorRestored(output: string): boolean {
  return output.lastIndexOf(SHOW) > output.lastIndexOf(HIDE);
}

describe('Ctrl-C in a terminal', () => {
  it('up interrupted while the control plane starts: cursor restored, one line, exit 130, nothing left untracked', async () => {
    const state = mkdtempSync(join(tmpdir(), 'nanofaas-int-'));
    dirs.push(state);
    // The control plane reports its pid here and waits until this connection closes.
    const hold = createServer();
    hold.listen(0, '127.0.0.1');
    await once(hold, 'listening');
    let holder: Socket | undefined;
    const held = new Promise<{ pid: number; socket: Socket }>((resolve) =>
      hold.once('connection', (socket) => socket.once('data', (d) => resolve({ pid: Number(String(d)), socket }))),
    );
    try {
      const env = cliEnv({
        TERM: 'xterm',
        NODE_OPTIONS: `--import=${join(fixtures, 'hold-control-plane.mjs')}`,
        HOLD_PORT: String((hold.address() as AddressInfo).port),
      });
      const run = nanofaasInPty(
        ['--state-dir', state, 'up', '--runtimes', 'node', '--skip-build', '--no-prometheus', '--port', '0', '--management-port', '0'],
        { columns: 120, env },
      );
      const cp = await held;
      holder = cp.socket;
      // Spawned, not listening yet: already recorded, so even a CLI killed now leaves nothing untracked.
      expect(new StateDir(state).process('control-plane')?.pid).toBe(cp.pid);
      const controlPlaneGone = once(cp.socket, 'close');
      run.interrupt();
      expect(await run.exit).toBe(130);
      await controlPlaneGone;

      const output = run.output();
      expect(output).toContain(HIDE); // the spinner renderer ran (and hid the cursor)
      expect(cursorRestored(output)).toBe(true);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's escape sequences
      const lines = output.split(/\r?\n/).filter((l) => /^nanofaas: interrupted/.test(l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`nanofaas down --state-dir ${state}`);
      expect(output).toContain('Start the control plane (process backend) (interrupted)');

      // What was started before listening was stopped again; status and down agree.
      expect(findOwnedProcesses(state)).toEqual([]);
      expect(new StateDir(state).process('control-plane')).toBeUndefined();
      const status = await nanofaas(['status', '--json'], cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state }));
      const doc = JSON.parse(status.stdout) as { components: Array<{ name: string; state: string }> };
      expect(doc.components.filter((c) => c.name !== 'prometheus').map((c) => [c.name, c.state])).toEqual([
        ['control-plane', 'stopped'],
        ['runtimes', 'stopped'],
      ]);
      const down = await nanofaas(['down'], cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state }));
      expect(down.code, down.stderr).toBe(0);
      expect(findOwnedProcesses(state)).toEqual([]);
    } finally {
      holder?.destroy();
      hold.close();
    }
  });

  it('a second Ctrl-C exits at once with 130, the cursor shown again', async () => {
    const run = inPty([process.execPath, join(fixtures, 'interrupt-twice.mjs')], { columns: 80, env: cliEnv({ TERM: 'xterm' }) });
    await run.until(/working/);
    run.interrupt();
    await run.until(/first interrupt seen/);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(cursorRestored(run.output())).toBe(true);
  });
});
