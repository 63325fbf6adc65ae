// The kubernetes workload backend, using the real @kubernetes/client-node against the FAKE API
// server in ./fake-apiserver.ts (no real cluster is involved anywhere in these tests).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubernetesBackend,
  KubernetesBackendError,
  type KubernetesBackend,
} from '../../control-plane/src/workloads/kubernetes/index.js';
import { callbackCredentials } from '../../control-plane/src/api/callback-credential.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { backendOptions, eventually, kubeConfigFor, NAMESPACE, recordingLogger, spec, TOKEN } from './helpers.js';

let api: FakeApiServer;
const opened: KubernetesBackend[] = [];

function backend(extra: Partial<Parameters<typeof createKubernetesBackend>[0]> = {}): KubernetesBackend {
  const b = createKubernetesBackend({ ...backendOptions(api.url), ...extra });
  opened.push(b);
  return b;
}

function envOf(d: any): Record<string, string> {
  return Object.fromEntries(d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
}

beforeAll(async () => {
  api = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
  api.setWatch('ok');
});
afterAll(async () => {
  await api.close();
});

describe('provision', () => {
  it('creates a Deployment and a Service fn-<name> with labels, env, probes, securityContext and scrape annotations', async () => {
    const b = backend({ callbackBaseUrl: 'http://nanofaas-control-plane.nanofaas.svc:8080/v1/internal/executions' });
    await b.provision(spec({ name: 'prov', env: { GREETING: 'hi', PORT: '9999' }, resources: { cpu: '250m', memory: '128Mi' } }));

    const d = api.get('Deployment', 'fn-prov')!;
    const s = api.get('Service', 'fn-prov')!;
    expect(d).toBeDefined();
    expect(s).toBeDefined();
    const labels = {
      'app.kubernetes.io/name': 'prov',
      'app.kubernetes.io/instance': 'fn-prov',
      'app.kubernetes.io/managed-by': 'nanofaas',
      'app.kubernetes.io/component': 'function',
      function: 'prov',
    };
    expect(d.metadata.labels).toMatchObject(labels);
    expect(d.spec.template.metadata.labels).toMatchObject(labels);
    expect(s.metadata.labels).toMatchObject(labels);
    expect(s.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(s.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    expect(d.spec.replicas).toBe(1);

    expect(d.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe('localhost:5000/nanofaas/word-stats-node:0.1.0');
    expect(envOf(d)).toEqual({
      PORT: '8080', // spec.env cannot override it
      FUNCTION_NAME: 'prov',
      TIMEOUT_MS: '30000',
      EXECUTION_MODE: 'HTTP',
      CALLBACK_URL: 'http://nanofaas-control-plane.nanofaas.svc:8080/v1/internal/executions',
      GREETING: 'hi',
    });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 8080 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 8080 });
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);

    expect(b.endpoints('prov')).toEqual([{ url: `http://fn-prov.${NAMESPACE}.svc.cluster.local:8080`, ready: false }]);
    expect(b.status('prov')).toMatchObject({ state: 'PENDING', readyReplicas: 0 });
    expect(b.endpoints('never-provisioned')).toEqual([]);
  });

  it("gives each function's pods its own callback credential as CALLBACK_TOKEN, which spec.env cannot replace", async () => {
    const credentials = callbackCredentials('cluster-api-token');
    const b = backend({ callbackBaseUrl: 'http://cp.nanofaas.svc:8080/v1/internal/executions', callbackToken: credentials.token });
    await b.provision(spec({ name: 'cb-a', env: { CALLBACK_TOKEN: 'chosen-by-the-spec' } }));
    await b.provision(spec({ name: 'cb-b' }));
    const a = envOf(api.get('Deployment', 'fn-cb-a'));
    expect(a.CALLBACK_TOKEN).toBe(credentials.token('cb-a'));
    expect(envOf(api.get('Deployment', 'fn-cb-b')).CALLBACK_TOKEN).toBe(credentials.token('cb-b'));
    expect(a.CALLBACK_TOKEN).not.toBe(credentials.token('cb-b'));
    expect(Object.values(a)).not.toContain('cluster-api-token');
    // No API token: no credential in the pod at all.
    const open = backend({
      callbackBaseUrl: 'http://cp.nanofaas.svc:8080/v1/internal/executions',
      callbackToken: callbackCredentials(undefined).token,
    });
    await open.provision(spec({ name: 'cb-open' }));
    expect(envOf(api.get('Deployment', 'fn-cb-open'))).not.toHaveProperty('CALLBACK_TOKEN');
  });

  it('gives STDIO functions EXECUTION_MODE and WATCHDOG_CMD (argv, no shell)', async () => {
    const b = backend();
    await b.provision(spec({ name: 'stdio-cmd', runtimeMode: 'STDIO', command: ['bash', '/app/handler.sh'], handler: 'handler.sh' }));
    await b.provision(spec({ name: 'stdio-rt', runtimeMode: 'STDIO', runtimeCommand: 'jq -c -f /app/transform.jq' }));
    const env1 = envOf(api.get('Deployment', 'fn-stdio-cmd'));
    expect(env1).toMatchObject({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: '["bash","/app/handler.sh"]', HANDLER: 'handler.sh' });
    expect(api.get('Deployment', 'fn-stdio-cmd')!.spec.template.spec.containers[0].command).toBeUndefined();
    expect(envOf(api.get('Deployment', 'fn-stdio-rt'))).toMatchObject({
      EXECUTION_MODE: 'STDIO',
      WATCHDOG_CMD: 'jq -c -f /app/transform.jq',
    });
    expect(envOf(api.get('Deployment', 'fn-stdio-rt')).CALLBACK_URL).toBeUndefined();
  });

  it('re-provisioning an existing function handles the 409 and replaces both objects in place', async () => {
    const b = backend();
    await b.provision(spec({ name: 'again', env: { VERSION: '1' } }));
    const clusterIp = api.get('Service', 'fn-again')!.spec.clusterIP;
    const uid = api.get('Deployment', 'fn-again')!.metadata.uid;
    const before = api.requests.length;

    await b.provision(spec({ name: 'again', env: { VERSION: '2' }, timeoutMs: 5000 }));
    const d = api.get('Deployment', 'fn-again')!;
    expect(envOf(d)).toMatchObject({ VERSION: '2', TIMEOUT_MS: '5000' });
    expect(d.metadata.uid).toBe(uid);
    expect(d.metadata.generation).toBe(2);
    expect(api.get('Service', 'fn-again')!.spec.clusterIP).toBe(clusterIp);

    const calls = api.requests
      .slice(before)
      .filter((r) => !(r.method === 'GET' && /(deployments|services)$/.test(r.path))) // the watcher's list/watch
      .map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);
    expect(calls).toEqual([
      `POST ${NAMESPACE}/services`,
      'GET services/fn-again',
      'PUT services/fn-again',
      `POST ${NAMESPACE}/deployments`,
      'GET deployments/fn-again',
      'PUT deployments/fn-again',
    ]);
  });

  it('surfaces a 422 from the API server as a VALIDATION_ERROR with the server message', async () => {
    const b = backend();
    const err = await b.provision(spec({ name: 'bad-cpu', resources: { cpu: 'lots' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubernetesBackendError);
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', apiStatus: 422 });
    expect((err as Error).message).toMatch(
      /kubernetes rejected Deployment fn-bad-cpu: .*resources\.requests\[cpu\].*quantities must match/,
    );
    expect((err as KubernetesBackendError).details).toMatchObject({
      reason: 'Invalid',
      causes: [expect.stringMatching(/^spec.template.spec.containers\[0\].resources.requests\[cpu\]: /)],
    });
    expect(api.get('Deployment', 'fn-bad-cpu')).toBeUndefined();
  });

  it('rejects a spec without image before calling the API', async () => {
    const b = backend();
    const before = api.requests.length;
    const { image: _drop, ...noImage } = spec({ name: 'no-image' });
    await expect(b.provision(noImage)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/no image/) });
    expect(api.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('readiness', () => {
  it('flips to ready through the watch when the Deployment reports readyReplicas >= 1', async () => {
    const b = backend();
    const changes: string[] = [];
    b.onChange((n) => changes.push(n));
    await b.provision(spec({ name: 'watched' }));
    await eventually(() => expect(api.watchRequests()).toBeGreaterThan(0));
    const waiting = b.waitReady('watched', 5000);

    api.setReadyReplicas('fn-watched', 1);
    await waiting;
    expect(b.endpoints('watched')).toEqual([{ url: `http://fn-watched.${NAMESPACE}.svc.cluster.local:8080`, ready: true }]);
    expect(b.status('watched')).toEqual({ state: 'READY', replicas: 1, readyReplicas: 1 });
    expect(changes).toContain('watched');

    api.setReadyReplicas('fn-watched', 0);
    await eventually(() => expect(b.endpoints('watched')[0]?.ready).toBe(false));
  });

  it('falls back to periodic lists when the watch fails, and still sees readiness', async () => {
    const logger = recordingLogger();
    api.setWatch('fail');
    const b = backend({ logger });
    await b.provision(spec({ name: 'polled' }));
    api.setReadyReplicas('fn-polled', 1);
    await b.waitReady('polled', 5000);
    expect(b.endpoints('polled')[0]?.ready).toBe(true);
    expect(logger.warnings.some((w) => /watch failed; polling/.test(w))).toBe(true);

    // Deletion is seen by the next list, not by running into deleteTimeoutMs.
    await b.deprovision('polled');
    expect(b.endpoints('polled')).toEqual([]);
    expect(logger.warnings.some((w) => /deletion still in progress/.test(w))).toBe(false);
  });

  it('reports a stuck rollout as FAILED and waitReady times out with the reason', async () => {
    const b = backend();
    await b.provision(spec({ name: 'stuck' }));
    await eventually(() => expect(api.watchRequests()).toBeGreaterThan(0));
    api.failRollout('fn-stuck', 'ReplicaSet "fn-stuck-1" has timed out progressing.');
    await eventually(() => expect(b.status('stuck').state).toBe('FAILED'));
    expect(b.status('stuck').message).toMatch(/ProgressDeadlineExceeded/);
    await expect(b.waitReady('stuck', 100)).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/function stuck not ready \(0\/1 replicas ready; ProgressDeadlineExceeded/),
    });
  });

  it('rejects pending waits when closed', async () => {
    const b = backend();
    await b.provision(spec({ name: 'closing' }));
    const waiting = b.waitReady('closing', 10_000);
    await b.close();
    await expect(waiting).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});

describe('scale and deprovision', () => {
  it('scale sets spec.replicas with a JSON patch; an unknown function is FUNCTION_NOT_FOUND', async () => {
    const b = backend();
    await b.provision(spec({ name: 'scaled' }));
    await b.scale('scaled', 3);
    expect(api.get('Deployment', 'fn-scaled')!.spec.replicas).toBe(3);
    const patch = api.requests.filter((r) => r.method === 'PATCH').at(-1)!;
    expect(patch.contentType).toBe('application/json-patch+json');
    expect(patch.body).toEqual([{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    await eventually(() => expect(b.status('scaled').replicas).toBe(3));
    await expect(b.scale('ghost', 2)).rejects.toMatchObject({ code: 'FUNCTION_NOT_FOUND' });
  });

  it('deprovision deletes both objects; deleting again is a no-op (404 tolerated)', async () => {
    const b = backend();
    const removed: string[] = [];
    b.onChange((n) => removed.push(n));
    await b.provision(spec({ name: 'gone' }));
    await b.deprovision('gone');
    expect(api.get('Deployment', 'fn-gone')).toBeUndefined();
    expect(api.get('Service', 'fn-gone')).toBeUndefined();
    expect(b.endpoints('gone')).toEqual([]);
    expect(removed.filter((n) => n === 'gone').length).toBeGreaterThanOrEqual(2);
    const before = api.requests.length;
    await b.deprovision('gone');
    const deletes = api.requests.slice(before).filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.path.split('/').slice(-2).join('/'))).toEqual(['deployments/fn-gone', 'services/fn-gone']);
  });

  it('the internal scaler scales an INTERNAL function up on queue depth and down after the cool-down', async () => {
    let clock = 1_000_000;
    const b = backend({ now: () => clock, scaler: { intervalMs: 60_000, scaleUpCooldownMs: 1000, scaleDownCooldownMs: 30_000 } });
    await b.provision(spec({ name: 'auto', concurrency: 2, scalingConfig: { strategy: 'INTERNAL', minReplicas: 1, maxReplicas: 4 } }));
    b.observeLoad('auto', { queueDepth: 10, inFlight: 2 });
    await b.scaleTick();
    expect(api.get('Deployment', 'fn-auto')!.spec.replicas).toBe(4); // 1 busy + 5 queued → capped at 4

    b.observeLoad('auto', { queueDepth: 0, inFlight: 0 });
    clock += 1000;
    await b.scaleTick();
    expect(api.get('Deployment', 'fn-auto')!.spec.replicas).toBe(4); // lull just started
    clock += 30_000;
    await b.scaleTick();
    expect(api.get('Deployment', 'fn-auto')!.spec.replicas).toBe(1);
  });
});

describe('backend health and credentials', () => {
  it('healthy() is true against a reachable API server and false with credentials it refuses', async () => {
    expect(await backend().healthy()).toBe(true);
    const refused = backend({ kubeConfig: kubeConfigFor(api.url, 'wrong-token') });
    expect(await refused.healthy()).toBe(false);
    const err = await refused.provision(spec({ name: 'unauth' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', apiStatus: 401 });
    expect((err as Error).message).toMatch(/401 Unauthorized.*ServiceAccount token/);
  });

  it('an unreachable API server is BACKEND_UNAVAILABLE', async () => {
    const b = backend({ kubeConfig: kubeConfigFor('http://127.0.0.1:1') });
    expect(await b.healthy()).toBe(false);
    await expect(b.provision(spec({ name: 'offline' }))).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', apiStatus: 0 });
  });
});
