/**
 * The CLI's cluster targets read the API token the chart generated (Secret nanofaas-api-token)
 * with kubectl and send it on every API call; NANOFAAS_API_TOKEN wins. kubectl and multipass are
 * the named fakes of test/targets/fixtures, the API a fake that, like the control plane, answers
 * 401 without the token.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { World, catalogNames, fakeApi, load } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET_READ = ['-n', 'nanofaas', 'get', 'secret', 'nanofaas-api-token', '--ignore-not-found', '-o', 'jsonpath={.data.token}'];

let api: Awaited<ReturnType<typeof fakeApi>>;
const worlds: World[] = [];
const newWorld = () => {
  const w = new World();
  worlds.push(w);
  return w;
};

beforeAll(async () => {
  api = await fakeApi(catalogNames(), { token: 'token-from-the-secret' });
});
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
  api.unauthorized.length = 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => api.server.close(() => resolve()));
});

describe('kubeconfig target', () => {
  it('reads the token from the Secret with kubectl (in the chosen context) and decodes it', async () => {
    const w = newWorld().shadow('kubectl').scenario({});
    const target = load('kubeconfig', w, w.env({ NANOFAAS_KUBE_CONTEXT: 'staging', FAKE_KUBE_TOKEN: 'token-from-the-secret' }));
    expect(await target.apiToken!()).toBe('token-from-the-secret');
    expect(w.calls()).toEqual([['kubectl', '--context', 'staging', ...SECRET_READ]]);
  });

  it('no Secret (auth.enabled=false): no token; kubectl failing: an error naming the command and NANOFAAS_API_TOKEN', async () => {
    const w = newWorld().shadow('kubectl').scenario({});
    expect(await load('kubeconfig', w, w.env()).apiToken!()).toBeUndefined();
    const failing = load(
      'kubeconfig',
      w,
      w.env({ FAKE_KUBE_FAIL: 'Error from server (Forbidden): secrets "nanofaas-api-token" is forbidden' }),
    );
    await expect(failing.apiToken!()).rejects.toThrow(
      /could not read the API token \(kubectl -n nanofaas get secret nanofaas-api-token .* exited with 1: Error from server \(Forbidden\).*\); set NANOFAAS_API_TOKEN/,
    );
  });

  it('NANOFAAS_API_TOKEN wins: kubectl is not asked', async () => {
    const w = newWorld().shadow('kubectl').scenario({});
    const target = load('kubeconfig', w, w.env({ NANOFAAS_API_TOKEN: 'given', FAKE_KUBE_TOKEN: 'token-from-the-secret' }));
    expect(await target.apiToken!()).toBe('given');
    expect(w.calls()).toEqual([]);
  });

  it('status probes the API with the token (a 401 would read as unhealthy)', async () => {
    const w = newWorld().shadow('kubectl', 'helm').scenario({});
    const status = await load('kubeconfig', w, w.env({ NANOFAAS_URL: api.url, FAKE_KUBE_TOKEN: 'token-from-the-secret' })).statusOf();
    expect(status.components.find((c) => c.name === 'control-plane')).toMatchObject({ state: 'running', detail: 'HTTP 200' });
    expect(api.unauthorized).toEqual([]);
  });
});

describe('multipass target', () => {
  it('reads the Secret inside the VM with k3s kubectl', async () => {
    const w = newWorld().scenario({ state: 'Running', apiToken: 'token-from-the-secret' });
    expect(await load('multipass', w, w.env()).apiToken!()).toBe('token-from-the-secret');
    expect(w.calls()).toEqual([['exec', 'nanofaas-e2e', '--', 'sudo', 'k3s', 'kubectl', ...SECRET_READ]]);
  });
});

describe('the built CLI', () => {
  // Asynchronous: the fake API answers from this process, which spawnSync would block.
  const cli = (w: World, args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], {
        env: { ...w.env({ NANOFAAS_URL: api.url, ...extra }), NANOFAAS_STATE_DIR: w.state.path, NO_COLOR: '1', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('sends the token from the cluster Secret on its API calls (functions list --target multipass)', async () => {
    const w = newWorld().scenario({ state: 'Running', apiToken: 'token-from-the-secret' });
    const { code, stdout, stderr } = await cli(w, ['functions', 'list', '--target', 'multipass', '--json']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('word-stats-python');
    expect(api.unauthorized).toEqual([]);
    expect(w.lines()).toContain(
      'exec nanofaas-e2e -- sudo k3s kubectl -n nanofaas get secret nanofaas-api-token --ignore-not-found -o jsonpath={.data.token}',
    );
  });

  it('a Secret holding another token gets the API 401 (the token really is what is sent)', async () => {
    const w = newWorld().scenario({ state: 'Running', apiToken: 'some-other-token' });
    const { code, stderr } = await cli(w, ['functions', 'list', '--target', 'multipass']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/401|UNAUTHORIZED|bearer token/);
    expect(api.unauthorized.some((line) => line.endsWith('Bearer some-other-token'))).toBe(true);
  });
});
