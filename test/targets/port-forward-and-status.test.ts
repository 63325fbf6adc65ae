import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { portForward } from '../../src/targets/kubeconfig/port-forward.js';
import { World, load } from './harness.js';

const FAKE_PF = fileURLToPath(new URL('./fixtures/fake-kubectl-port-forward.mjs', import.meta.url));
const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});

describe('kubectl port-forward (fake kubectl)', () => {
  it('resolves the local ports from kubectl\'s "Forwarding from" lines and close() ends kubectl', async () => {
    const pf = await portForward([process.execPath, FAKE_PF], 'nanofaas', 'svc/nanofaas-control-plane', [8080, 8081], process.env, 10_000);
    expect(pf.localPorts).toEqual([41000, 41001]);
    await pf.close();
  });

  it('a kubectl that exits reports its error', async () => {
    await expect(
      portForward(
        [process.execPath, FAKE_PF],
        'nanofaas',
        'svc/nanofaas-control-plane',
        [8080],
        { ...process.env, FAKE_PF_FAIL: '1' },
        10_000,
      ),
    ).rejects.toThrow(/exited with 1: Error from server \(NotFound\)/);
  });

  it('a kubectl that never prints the line is killed at the timeout', async () => {
    const silent = [process.execPath, '-e', 'setInterval(() => {}, 1e9)', '--'];
    const started = Date.now();
    await expect(portForward(silent, 'nanofaas', 'svc/x', [8080], process.env, 500)).rejects.toThrow(/did not start within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('multipass target: status and endpoints (fake multipass)', () => {
  it('a running VM gives the NodePort endpoints; an absent VM gives none', async () => {
    const w = new World().scenario({ state: 'Running', ip: '127.0.0.1' });
    worlds.push(w);
    const target = load('multipass', w, w.env());
    expect(await target.endpoints()).toEqual({
      apiUrl: 'http://127.0.0.1:30080',
      managementUrl: 'http://127.0.0.1:30081',
      prometheusUrl: 'http://127.0.0.1:30090',
    });
    const status = await target.statusOf();
    expect(status.components[0]).toMatchObject({ name: 'vm nanofaas-e2e', state: 'running', detail: 'Running at 127.0.0.1' });
    expect(status.components.map((c) => c.name)).toEqual(['vm nanofaas-e2e', 'control-plane', 'prometheus']);

    w.scenario({ state: 'absent' });
    expect(await target.endpoints()).toBeUndefined();
    expect((await target.statusOf()).components).toEqual([{ name: 'vm nanofaas-e2e', state: 'stopped', detail: 'not created' }]);
  });
});
