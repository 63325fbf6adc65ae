// In-cluster config: the ServiceAccount token and CA are what authenticate the control plane (without
// them every API call answers 401). A temp dir stands in for /var/run/secrets/...; the FAKE API server serves
// HTTPS with a throwaway self-signed cert (fixtures/, valid until 2126, for 127.0.0.1 only).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesBackend, loadKubeConfig, type KubernetesBackend } from '../../control-plane/src/workloads/kubernetes/index.js';
import { SERVICE_ACCOUNT_DIR } from '../../control-plane/src/workloads/kubernetes/kube-config.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { NAMESPACE, recordingLogger, spec, TOKEN } from './helpers.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const cert = readFileSync(path.join(fixtures, 'fake-apiserver.crt'));
const key = readFileSync(path.join(fixtures, 'fake-apiserver.key'));

let tls: FakeApiServer;
let plain: FakeApiServer;
let tmp: string;
const opened: KubernetesBackend[] = [];

async function serviceAccount(name: string, token: string | undefined): Promise<string> {
  const prefix = path.join(tmp, name);
  const dir = path.join(prefix, SERVICE_ACCOUNT_DIR);
  await mkdir(dir, { recursive: true });
  // Kubernetes writes the token without a trailing newline; so do we.
  if (token !== undefined) await writeFile(path.join(dir, 'token'), token);
  await writeFile(path.join(dir, 'ca.crt'), cert);
  await writeFile(path.join(dir, 'namespace'), `${NAMESPACE}\n`);
  return prefix;
}

function inClusterEnv(port: number): NodeJS.ProcessEnv {
  return { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) };
}

function backendWith(kubeConfig: ReturnType<typeof loadKubeConfig>['kubeConfig']): KubernetesBackend {
  const b = createKubernetesBackend({
    namespace: NAMESPACE,
    rootDir: tmp,
    stateDir: tmp,
    logger: recordingLogger(),
    kubeConfig,
    pollIntervalMs: 50,
  });
  opened.push(b);
  return b;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'nanofaas-kubeconfig-'));
  tls = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN, tls: { key, cert } });
  plain = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
});
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
  await Promise.all([tls?.close(), plain?.close()]);
  await rm(tmp, { recursive: true, force: true });
});

describe('loadKubeConfig', () => {
  it('in a pod: uses the mounted ServiceAccount token and CA (HTTPS verified against ca.crt)', async () => {
    const prefix = await serviceAccount('good', TOKEN);
    const loaded = loadKubeConfig({ env: inClusterEnv(tls.port), pathPrefix: prefix });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.namespace).toBe(NAMESPACE);
    expect(loaded.kubeConfig.getCurrentCluster()).toMatchObject({
      server: `https://127.0.0.1:${tls.port}`,
      caFile: `${prefix}${SERVICE_ACCOUNT_DIR}/ca.crt`,
    });
    const b = backendWith(loaded.kubeConfig);
    await b.provision(spec({ name: 'in-cluster' }));
    expect(tls.get('Deployment', 'fn-in-cluster')).toBeDefined();
    expect(await b.healthy()).toBe(true);
  });

  it('a token the API server refuses gives a 401 error that points at the ServiceAccount token', async () => {
    const prefix = await serviceAccount('stale', 'not-the-token');
    const b = backendWith(loadKubeConfig({ env: inClusterEnv(tls.port), pathPrefix: prefix }).kubeConfig);
    await expect(b.provision(spec({ name: 'refused' }))).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      apiStatus: 401,
      message: expect.stringMatching(/serviceaccount\/token/),
    });
  });

  it('a missing token file is a clear error at load time', async () => {
    const prefix = await serviceAccount('missing', undefined);
    expect(() => loadKubeConfig({ env: inClusterEnv(tls.port), pathPrefix: prefix })).toThrow(
      /ServiceAccount token not found at .*serviceaccount\/token/,
    );
  });

  it('outside a pod: reads the file named by KUBECONFIG', async () => {
    const file = path.join(tmp, 'kubeconfig.yaml');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake\n  cluster:\n    server: ${plain.url}\n    insecure-skip-tls-verify: true`,
        'users:',
        `- name: tester\n  user:\n    token: ${TOKEN}`,
        'contexts:',
        `- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: ${NAMESPACE}`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
    const loaded = loadKubeConfig({ env: { KUBECONFIG: file, HOME: tmp } });
    expect(loaded.source).toBe('kubeconfig');
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe(plain.url);
    const b = backendWith(loaded.kubeConfig);
    await b.provision(spec({ name: 'from-kubeconfig' }));
    expect(plain.get('Service', 'fn-from-kubeconfig')).toBeDefined();
  });
});
