/**
 * The control plane's log is appended to across runs. When it cannot start because
 * its port is taken, the error shows this run's lines (the EADDRINUSE) and none from earlier runs.
 */
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { cliEnv, nanofaas } from './cli-process.js';

const state = mkdtempSync(join(tmpdir(), 'nanofaas-port-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

it('a taken port: the failure shows the EADDRINUSE line and no line of an earlier run', async () => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  try {
    mkdirSync(join(state, 'logs'));
    for (let i = 1; i <= 7; i++) appendFileSync(join(state, 'logs', 'control-plane.log'), `STALE LINE ${i} of an earlier run\n`);
    const port = (busy.address() as AddressInfo).port;
    const up = await nanofaas(
      ['up', '--runtimes', 'node', '--skip-build', '--no-prometheus', '--port', String(port), '--management-port', '0'],
      cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state }),
    );
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('EADDRINUSE');
    expect(up.stderr).toContain(`127.0.0.1:${port}`);
    expect(up.stderr).not.toContain('STALE LINE');
    // The failed start left nothing running and no record behind.
    expect(findOwnedProcesses(state)).toEqual([]);
    const status = await nanofaas(['status', '--json'], cliEnv({ CI: 'true', NANOFAAS_STATE_DIR: state }));
    expect((JSON.parse(status.stdout) as { components: Array<{ name: string; state: string }> }).components[0]).toMatchObject({
      name: 'control-plane',
      state: 'stopped',
    });
  } finally {
    busy.close();
  }
});
