/**
 * The built CLI (dist/, `npm test` builds first) with `--target multipass` against the FAKE
 * multipass on PATH: the dry-run plan on stdout with no multipass call, and a failing step's
 * report and exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { World } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});

function cli(world: World, args: string[], extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], {
    env: { ...world.env(extra), NANOFAAS_STATE_DIR: world.state.path, NO_COLOR: '1', CI: 'true' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('nanofaas CLI with --target multipass (fake multipass)', () => {
  it('up --dry-run prints the whole plan, exits 0 and never calls multipass', () => {
    const w = new World().scenario({ state: 'absent' });
    worlds.push(w);
    const { code, stdout, stderr } = cli(w, ['up', '--target', 'multipass', '--dry-run']);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('target: multipass');
    expect(stdout).toContain('$ multipass launch 24.04 --name nanofaas-e2e --cpus 4 --memory 8G --disk 30G');
    expect(stdout).toContain('helm upgrade --install nanofaas /home/ubuntu/nanofaas/helm/nanofaas');
    expect(stdout).toContain('• Smoke-test 8 demo functions');
    expect(w.calls()).toEqual([]);
  });

  it('a failing step: exit 1, the step, the command, the log tail and a hint', () => {
    const w = new World().scenario({
      state: 'Running',
      missingDeps: '',
      k3sInstalled: true,
      fail: [
        {
          match: 'kubectl wait --for=condition=Ready node',
          exitCode: 1,
          stderr: 'error: timed out waiting for the condition on nodes/nanofaas-e2e',
        },
      ],
    });
    worlds.push(w);
    const { code, stderr } = cli(w, ['up', '--target', 'multipass']);
    expect(code).toBe(1);
    expect(stderr).toContain('k3s node Ready; kubeconfig exported failed: the k3s node wait exited with code 1');
    expect(stderr).toContain("while running: multipass exec nanofaas-e2e -- sudo bash -c 'set -euo pipefail; deadline=$((SECONDS + 120));");
    expect(stderr).toContain('│ error: timed out waiting for the condition on nodes/nanofaas-e2e');
    expect(stderr).toContain('hint: k3s may still be starting or failing: multipass exec nanofaas-e2e -- sudo journalctl -u k3s');
    expect(w.lines().some((l) => l.startsWith('transfer'))).toBe(false);
  });

  it('down with KEEP_VM=1 keeps the VM (any boolean spelling the targets accept)', () => {
    const w = new World().scenario({ state: 'Running', missingDeps: '', k3sInstalled: true });
    worlds.push(w);
    const { code, stderr } = cli(w, ['down', '--target', 'multipass'], { KEEP_VM: '1' });
    expect(code, stderr).toBe(0);
    expect(w.lines().some((l) => l.startsWith('delete') || l === 'purge')).toBe(false);
    expect(w.lines().some((l) => l.includes('helm uninstall nanofaas'))).toBe(true);
  });

  it('a bad environment value is a usage error (exit 2) naming the variable', () => {
    const w = new World().scenario({});
    worlds.push(w);
    const { code, stderr } = cli(w, ['up', '--target', 'multipass', '--dry-run'], { MEMORY: 'lots' });
    expect(code).toBe(2);
    expect(stderr).toContain('MEMORY must be a size such as 8G, got "lots"');
  });
});
