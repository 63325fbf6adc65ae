import { afterEach, describe, expect, it } from 'vitest';
import { World, down, load, up } from './harness.js';

const worlds: World[] = [];
const newWorld = () => {
  const w = new World();
  worlds.push(w);
  return w;
};
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});

describe('kubeconfig target', () => {
  it('--dry-run prints the full plan (checks, build, push, helm, rollout, port-forward smoke) and runs nothing', async () => {
    const w = newWorld().shadow('kubectl', 'helm', 'docker').scenario({});
    const env = w.env({ NANOFAAS_REGISTRY: 'registry.example.com:5000/team', NANOFAAS_KUBE_CONTEXT: 'staging' });
    const target = load('kubeconfig', w, env);
    expect(target.describe()).toContain('context staging');
    const { result, written } = await up(target, { dryRun: true });
    expect(result.ok).toBe(true);
    expect(w.calls()).toEqual([]);
    const plan = written.join('\n');
    for (const expected of [
      '$ kubectl --context staging version --client',
      '$ helm --kube-context staging version --short',
      '$ kubectl --context staging cluster-info',
      `docker build --network host --label 'dev.nanofaas.inputs=<inputs hash>' -t registry.example.com:5000/team/nanofaas/control-plane:0.1.0 -f ${w.repo}/control-plane/Dockerfile`,
      '$ docker push registry.example.com:5000/team/nanofaas/word-stats-python:0.1.0',
      `$ helm --kube-context staging upgrade --install nanofaas ${w.repo}/helm/nanofaas --namespace nanofaas --create-namespace -f ${w.state.file('kubeconfig', 'values.yaml')} --wait --timeout 5m`,
      '$ kubectl --context staging -n nanofaas rollout status deployment/nanofaas-control-plane --timeout=180s',
      '$ kubectl --context staging -n nanofaas port-forward --address 127.0.0.1 svc/nanofaas-control-plane :8080 :8081',
      '$ kubectl --context staging -n nanofaas port-forward --address 127.0.0.1 svc/nanofaas-prometheus :9090',
    ]) {
      expect(plan).toContain(expected);
    }
  });

  it('--no-build (SKIP_BUILD) with no registry uses the prebuilt image names; NANOFAAS_URL replaces the port-forward', async () => {
    const w = newWorld().shadow('kubectl', 'helm', 'docker').scenario({});
    const target = load('kubeconfig', w, w.env({ SKIP_BUILD: 'true', NANOFAAS_URL: 'http://10.0.0.5:30080' }));
    const { written } = await up(target, { dryRun: true });
    const plan = written.join('\n');
    expect(plan).toContain('• Use prebuilt images by their own names (--no-build: no build, no push)');
    expect(plan).toContain('$ the cluster pulls nanofaas/control-plane:0.1.0');
    expect(plan).not.toMatch(/docker (build|push)|\(none\)/);
    expect(plan).not.toContain('port-forward');
    expect(plan).toContain('API http://10.0.0.5:30080 (NANOFAAS_URL)');
    expect(w.calls()).toEqual([]);
  });

  it('building without a registry is a usage error that says what to set', () => {
    const w = newWorld().scenario({});
    const target = load('kubeconfig', w, w.env());
    expect(() => target.upSteps({ skipBuild: false, prometheus: true })).toThrow(/needs a registry/);
    try {
      target.upSteps({ skipBuild: false, prometheus: true });
    } catch (error) {
      expect((error as { exitCode: number; hint: string }).exitCode).toBe(2);
      expect((error as { hint: string }).hint).toContain('NANOFAAS_REGISTRY');
    }
  });

  it('down --dry-run plans helm uninstall and the namespace deletion', async () => {
    const w = newWorld().shadow('kubectl', 'helm').scenario({});
    const { written } = await down(load('kubeconfig', w, w.env()), { dryRun: true });
    expect(written.join('\n')).toContain('$ helm uninstall nanofaas --namespace nanofaas --ignore-not-found');
    expect(written.join('\n')).toContain('$ kubectl delete namespace nanofaas --ignore-not-found');
    expect(w.calls()).toEqual([]);
  });
});

describe('doctor checks (multipass target, fake multipass answering the in-VM kubectl/helm)', () => {
  const pods = (reason?: string) =>
    JSON.stringify({
      items: [
        {
          metadata: { name: 'nanofaas-control-plane-abc' },
          status: {
            containerStatuses: [{ name: 'control-plane', image: 'localhost:5000/nanofaas/control-plane:0.1.0', state: { running: {} } }],
          },
        },
        {
          metadata: { name: 'fn-word-stats-python-xyz' },
          status: {
            containerStatuses: [
              {
                name: 'function',
                image: 'localhost:5000/nanofaas/word-stats-python:0.1.0',
                state: reason ? { waiting: { reason } } : { running: {} },
              },
            ],
          },
        },
      ],
    });

  it('healthy cluster: every check ok; ImagePullBackOff: the fix shows registries.yaml and the registry catalog', async () => {
    const answers = (reason?: string) => [
      { match: 'kubectl get namespace nanofaas', stdout: 'namespace/nanofaas\n' },
      { match: 'helm status nanofaas', stdout: 'STATUS: deployed\n' },
      { match: 'jsonpath={.spec.template.spec.containers[0].env}', stdout: '[{"name":"SYNC_QUEUE_ADMISSION_ENABLED","value":"true"}]' },
      { match: 'kubectl get pods -n nanofaas -o json', stdout: pods(reason) },
      { match: 'ls /var/run/secrets/kubernetes.io/serviceaccount/', stdout: 'ca.crt\nnamespace\ntoken\n' },
    ];
    const w = newWorld().scenario({ state: 'Running', answers: answers() });
    const checks = load('multipass', w, w.env({ NANOFAAS_URL: 'http://127.0.0.1:9' })).doctorChecks();
    expect(checks.map((c) => c.id)).toEqual([
      'vm-running',
      'namespace',
      'admission-env',
      'image-pull',
      'exec-stdio',
      'service-account-token',
    ]);
    const results = Object.fromEntries(await Promise.all(checks.map(async (c) => [c.id, await c.run()] as const)));
    expect(results['vm-running']!.status).toBe('ok');
    expect(results.namespace!.status).toBe('ok');
    expect(results['admission-env']!.detail).toContain('SYNC_QUEUE_ADMISSION_ENABLED=true');
    expect(results['image-pull']!.status).toBe('ok');
    expect(results['service-account-token']!.status).toBe('ok');
    // nothing listens on port 9: the runtimeMode check cannot pass
    expect(results['exec-stdio']!.status).toBe('fail');

    w.scenario({ state: 'Running', answers: answers('ImagePullBackOff') });
    const pull = await checks.find((c) => c.id === 'image-pull')!.run();
    expect(pull.status).toBe('fail');
    expect(pull.detail).toContain('fn-word-stats-python-xyz/function (localhost:5000/nanofaas/word-stats-python:0.1.0: ImagePullBackOff)');
    expect(pull.fix).toBe(
      'multipass exec nanofaas-e2e -- cat /etc/rancher/k3s/registries.yaml; multipass exec nanofaas-e2e -- curl -s http://localhost:5000/v2/_catalog',
    );
  });

  it('missing namespace, missing token and a stopped VM fail with the command that fixes them', async () => {
    const w = newWorld().scenario({
      state: 'Running',
      answers: [
        { match: 'kubectl get namespace nanofaas', exitCode: 1, stderr: 'Error from server (NotFound)\n' },
        {
          match: 'ls /var/run/secrets/kubernetes.io/serviceaccount/',
          exitCode: 2,
          stderr: 'ls: cannot access: No such file or directory\n',
        },
      ],
    });
    const checks = load('multipass', w, w.env()).doctorChecks();
    const byId = (id: string) => checks.find((c) => c.id === id)!.run();
    expect(await byId('namespace')).toMatchObject({ status: 'fail', fix: 'nanofaas up (helm --create-namespace creates it)' });
    const token = await byId('service-account-token');
    expect(token.status).toBe('fail');
    expect(token.fix).toContain(
      'multipass exec nanofaas-e2e -- sudo k3s kubectl exec -n nanofaas deploy/nanofaas-control-plane -- ls /var/run/secrets/kubernetes.io/serviceaccount/',
    );
    // One doctor run reads the VM state once: a new run sees the stopped VM.
    w.scenario({ state: 'Stopped' });
    const again = load('multipass', w, w.env()).doctorChecks();
    expect(await again.find((c) => c.id === 'vm-running')!.run()).toMatchObject({ status: 'fail', fix: 'multipass start nanofaas-e2e' });
  });

  it('without multipass on PATH: one check that says so, with the install hint, instead of a spawn error per check', async () => {
    const w = newWorld().scenario({ state: 'Running' });
    const checks = load('multipass', w, w.env({ PATH: '/nonexistent' })).doctorChecks();
    expect(checks.map((c) => c.id)).toEqual(['multipass-installed']);
    const result = await checks[0]!.run();
    expect(result.status).toBe('fail');
    expect(result.detail).toBe('multipass is not on PATH');
    expect(result.fix).toContain('snap install multipass');
  });
});
