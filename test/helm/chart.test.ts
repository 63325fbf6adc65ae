// helm/nanofaas checked with the real helm binary (lint + template) and the rendered objects parsed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART, find, helm, removeScratch, render, ROOT, valuesFile, type K8sObject, chartWithLookupAnswer, renderNotes } from './helm.js';

interface CatalogFunction {
  name: string;
  image: string;
  spec: Record<string, unknown> & { runtimeMode: string };
  runtime: string;
}
const catalog = JSON.parse(readFileSync(path.join(ROOT, 'functions/catalog.json'), 'utf8')) as { functions: CatalogFunction[] };

const CP = 'nanofaas-control-plane';
const PROM = 'nanofaas-prometheus';
let objects: K8sObject[];

/** Every pod template in the chart (Deployments and the hook Job). */
function podSpecs(objs: K8sObject[]): [string, any][] {
  return objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job').map((o) => [`${o.kind}/${o.metadata.name}`, o.spec.template.spec]);
}

function hookSpecs(objs: K8sObject[]): any[] {
  return JSON.parse(find(objs, 'ConfigMap', 'nanofaas-register').data['functions.json']);
}

beforeAll(async () => {
  objects = await render();
});
afterAll(() => removeScratch());

describe('helm lint', () => {
  it('passes with the default values', async () => {
    const r = await helm(['lint', CHART]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe('helm template (default values)', () => {
  it('renders the control plane, its RBAC, Prometheus and the registration hook', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        `ConfigMap/${PROM}`,
        'ConfigMap/nanofaas-register',
        `Deployment/${CP}`,
        `Deployment/${PROM}`,
        'Job/nanofaas-register',
        `Role/${CP}`,
        `Role/${PROM}`,
        `RoleBinding/${CP}`,
        `RoleBinding/${PROM}`,
        'Secret/nanofaas-api-token',
        `Service/${CP}`,
        `Service/${PROM}`,
        `ServiceAccount/${CP}`,
        `ServiceAccount/${PROM}`,
      ].sort(),
    );
  });

  it('exposes NodePorts 30080 (API), 30081 (management) and 30090 (Prometheus)', () => {
    const cp = find(objects, 'Service', CP);
    expect(cp.spec.type).toBe('NodePort');
    expect(cp.spec.ports.map((p: any) => [p.name, p.port, p.nodePort])).toEqual([
      ['http', 8080, 30080],
      ['management', 8081, 30081],
    ]);
    const prom = find(objects, 'Service', PROM);
    expect(prom.spec.ports.map((p: any) => [p.port, p.nodePort])).toEqual([[9090, 30090]]);
  });

  it('grants the control plane exactly the verbs the kubernetes backend uses, in its namespace only', () => {
    const role = find(objects, 'Role', CP);
    expect(role.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'update', 'delete'] },
    ]);
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
    const binding = find(objects, 'RoleBinding', CP);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CP });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: CP, namespace: 'nanofaas' }]);
    const pod = find(objects, 'Deployment', CP).spec.template.spec;
    expect(pod.serviceAccountName).toBe(CP);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(objects, 'Role', PROM).rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }]);
  });

  it('runs the control plane with the kubernetes backend on 0.0.0.0, images from localhost:5000', () => {
    const c = find(objects, 'Deployment', CP).spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      NANOFAAS_WORKLOAD_BACKEND: 'kubernetes',
      NANOFAAS_HOST: '0.0.0.0',
      NANOFAAS_PORT: '8080',
      NANOFAAS_MANAGEMENT_PORT: '8081',
      NANOFAAS_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
      SYNC_QUEUE_ADMISSION_ENABLED: 'true',
    });
    expect(c.image).toBe('localhost:5000/nanofaas/control-plane:0.1.0');
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'management' });
    expect(find(objects, 'Deployment', CP).spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('hardens every pod and container: non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
    const pods = podSpecs(objects);
    expect(pods.length).toBe(3);
    for (const [where, pod] of pods) {
      expect(pod.securityContext, where).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser, where).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext, `${where} ${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('registers every catalog function in a post-install/post-upgrade hook that uses the control-plane image', () => {
    const job = find(objects, 'Job', 'nanofaas-register');
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'post-install,post-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe(find(objects, 'Deployment', CP).spec.template.spec.containers[0].image);
    expect(c.command).toEqual(['node', '/hook/register.mjs']);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    expect(env.NANOFAAS_URL).toBe('http://nanofaas-control-plane.nanofaas.svc.cluster.local:8080');

    const cm = find(objects, 'ConfigMap', 'nanofaas-register');
    expect(cm.data['register.mjs']).toBe(readFileSync(path.join(CHART, 'files/register.mjs'), 'utf8'));
    const specs = hookSpecs(objects);
    expect(specs.map((s) => s.name)).toEqual(catalog.functions.map((f) => f.name));
    for (const fn of catalog.functions) {
      const s = specs.find((x) => x.name === fn.name);
      expect(s).toEqual({ name: fn.name, image: `localhost:5000/${fn.image}`, executionMode: 'DEPLOYMENT', ...fn.spec });
      if (fn.runtime === 'exec') expect(s.runtimeMode).toBe('STDIO');
    }
  });

  it('configures Prometheus to scrape the management port and annotated pods (kubernetes_sd, pod role)', () => {
    const config = parse(find(objects, 'ConfigMap', PROM).data['prometheus.yml']);
    const [cpJob, fnJob] = config.scrape_configs;
    expect(cpJob).toMatchObject({
      job_name: 'nanofaas-control-plane',
      metrics_path: '/metrics',
      static_configs: [{ targets: ['nanofaas-control-plane.nanofaas.svc.cluster.local:8081'] }],
    });
    expect(fnJob.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['nanofaas'] } }]);
    expect(fnJob.relabel_configs[0]).toEqual({
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
      action: 'keep',
      regex: 'true',
    });
    expect(fnJob.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_pod_label_function'], target_label: 'function' });
    const pod = find(objects, 'Deployment', PROM).spec.template.spec;
    expect(pod.serviceAccountName).toBe(PROM);
    expect(pod.containers[0].args).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });
});

describe('helm template (overrides)', () => {
  it('renders extraEnv into the control-plane env, and refuses a token or NANOFAAS_INSECURE there (auth.* sets them)', async () => {
    const objs = await render([
      '-f',
      valuesFile({ controlPlane: { extraEnv: [{ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: 'false' }] } }),
    ]);
    const env = find(objs, 'Deployment', CP).spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: 'false' });
    expect(env.filter((e: any) => e.name === 'SYNC_QUEUE_ADMISSION_ENABLED')).toHaveLength(1);
    const hookEnv = find(objs, 'Job', 'nanofaas-register').spec.template.spec.containers[0].env;
    expect(hookEnv.some((e: any) => e.name === 'SYNC_QUEUE_ADMISSION_ENABLED')).toBe(false);

    for (const name of ['NANOFAAS_API_TOKEN', 'NANOFAAS_API_TOKEN_FILE', 'NANOFAAS_INSECURE']) {
      const r = await helm(['template', 'nanofaas', CHART, '-f', valuesFile({ controlPlane: { extraEnv: [{ name, value: 'x' }] } })]);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr).toContain(`controlPlane.extraEnv must not set ${name}: use auth.enabled / auth.existingSecret instead`);
    }
  });

  it('takes NodePorts, registry and tag from values', async () => {
    const objs = await render([
      '--set',
      'controlPlane.service.nodePorts.api=31080',
      '--set',
      'controlPlane.service.nodePorts.management=31081',
      '--set',
      'prometheus.service.nodePort=31090',
      '--set',
      'image.registry=registry.example:5000',
      '--set',
      'image.tag=1.2.3',
    ]);
    expect(find(objs, 'Service', CP).spec.ports.map((p: any) => p.nodePort)).toEqual([31080, 31081]);
    expect(find(objs, 'Service', PROM).spec.ports[0].nodePort).toBe(31090);
    expect(find(objs, 'Deployment', CP).spec.template.spec.containers[0].image).toBe('registry.example:5000/nanofaas/control-plane:1.2.3');
    expect(hookSpecs(objs).every((s) => /^registry\.example:5000\/nanofaas\/[a-z-]+:1\.2\.3$/.test(s.image))).toBe(true);
  });

  it('ClusterIP services carry no nodePort; Prometheus and registration can be turned off', async () => {
    const objs = await render([
      '--set',
      'controlPlane.service.type=ClusterIP',
      '--set',
      'prometheus.enabled=false',
      '--set',
      'registration.enabled=false',
    ]);
    expect(find(objs, 'Service', CP).spec.ports.every((p: any) => p.nodePort === undefined)).toBe(true);
    expect(objs.some((o) => o.metadata.name.includes('prometheus') || o.metadata.name.includes('register'))).toBe(false);
  });
});

describe('API token', () => {
  const TOKEN_FILE = '/var/run/secrets/nanofaas/api-token/token';
  const envOf = (c: any): Record<string, unknown> => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  const cpPod = (objs: K8sObject[]) => find(objs, 'Deployment', CP).spec.template.spec;
  const hookPod = (objs: K8sObject[]) => find(objs, 'Job', 'nanofaas-register').spec.template.spec;
  const tokenOf = (objs: K8sObject[]) => Buffer.from(find(objs, 'Secret', 'nanofaas-api-token').data.token, 'base64').toString('utf8');

  it('by default generates a random token Secret and mounts it, as a file, into the control plane and the hook', async () => {
    const secret = find(objects, 'Secret', 'nanofaas-api-token');
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data)).toEqual(['token']);
    const token = tokenOf(objects);
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    // Nothing in the cluster to find (helm template): every render draws a new one.
    expect(tokenOf(await render())).not.toBe(token);

    for (const [where, pod] of [
      ['control plane', cpPod(objects)],
      ['hook', hookPod(objects)],
    ] as const) {
      const c = pod.containers[0];
      const env = envOf(c);
      expect(env.NANOFAAS_API_TOKEN_FILE, where).toBe(TOKEN_FILE);
      expect(env, where).not.toHaveProperty('NANOFAAS_API_TOKEN');
      expect(env, where).not.toHaveProperty('NANOFAAS_INSECURE');
      expect(c.volumeMounts, where).toContainEqual({ name: 'api-token', mountPath: '/var/run/secrets/nanofaas/api-token', readOnly: true });
      expect(pod.volumes, where).toContainEqual({
        name: 'api-token',
        secret: { secretName: 'nanofaas-api-token', defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] },
      });
      // The file is 0440: the pod's group must be the one that owns it.
      expect(pod.securityContext.fsGroup, where).toBe(pod.securityContext.runAsUser);
    }
    // The token itself appears in no pod spec.
    expect(JSON.stringify(podSpecs(objects))).not.toContain(token);
  });

  it('an upgrade keeps the token the lookup finds in the cluster', async () => {
    const existing = Buffer.from('kept-from-the-first-install').toString('base64');
    const copy = chartWithLookupAnswer('nanofaas.apiToken.existing', { token: existing });
    const r = await helm(['template', 'nanofaas', copy, '--namespace', 'nanofaas', '--show-only', 'templates/api-token-secret.yaml']);
    expect(r.stderr).toBe('');
    expect(parse(r.stdout).data.token).toBe(existing);
  });

  it('auth.existingSecret: no Secret of its own, the given one (and key) is mounted', async () => {
    const objs = await render(['--set', 'auth.existingSecret=my-token', '--set', 'auth.secretKey=api-token']);
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    for (const pod of [cpPod(objs), hookPod(objs)]) {
      expect(envOf(pod.containers[0]).NANOFAAS_API_TOKEN_FILE).toBe('/var/run/secrets/nanofaas/api-token/api-token');
      expect(pod.volumes.find((v: any) => v.name === 'api-token').secret).toMatchObject({
        secretName: 'my-token',
        items: [{ key: 'api-token', path: 'api-token' }],
      });
    }
  });

  it('auth.enabled=false: no token anywhere, and NANOFAAS_INSECURE=true so the 0.0.0.0 bind is allowed', async () => {
    const objs = await render(['--set', 'auth.enabled=false']);
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    const env = envOf(cpPod(objs).containers[0]);
    expect(env).toMatchObject({ NANOFAAS_HOST: '0.0.0.0', NANOFAAS_INSECURE: 'true' });
    expect(env).not.toHaveProperty('NANOFAAS_API_TOKEN_FILE');
    for (const pod of [cpPod(objs), hookPod(objs)]) {
      expect(pod.volumes.some((v: any) => v.name === 'api-token')).toBe(false);
      expect(envOf(pod.containers[0])).not.toHaveProperty('NANOFAAS_API_TOKEN_FILE');
    }
  });

  it('the default install never combines a 0.0.0.0 bind with no token', () => {
    const env = envOf(cpPod(objects).containers[0]);
    expect(env.NANOFAAS_HOST).toBe('0.0.0.0');
    expect(env.NANOFAAS_API_TOKEN_FILE).toBe(TOKEN_FILE);
  });
});

describe('values.schema.json', () => {
  it.each([
    [['--set', 'controlPlane.service.nodePorts.api=99999'], /controlPlane\.service\.nodePorts\.api: Must be less than or equal to 32767/],
    [['--set', 'prometheus.service.nodePort=80'], /prometheus\.service\.nodePort: Must be greater than or equal to 30000/],
    [['--set-string', 'controlPlane.replicas=two'], /controlPlane\.replicas: Invalid type\. Expected: integer, given: string/],
    [['--set', 'functions[0].runtimeMode=SHELL'], /functions\.0\.runtimeMode: functions\.0\.runtimeMode must be one of the following/],
    [['--set', 'controlPlane.extraEnv[0].value=x'], /controlPlane\.extraEnv\.0: name is required/],
    [['--set', 'controlPlane.typo=1'], /Additional property typo is not allowed/],
    [['--set', 'auth.existingSecret=Not_A_Name'], /auth\.existingSecret: Does not match pattern/],
    [['--set-string', 'auth.enabled=no'], /auth\.enabled: Invalid type\. Expected: boolean, given: string/],
    [['--set', 'auth.token=abc'], /Additional property token is not allowed/],
  ])('rejects %j', async (args, message) => {
    const r = await helm(['template', 'nanofaas', CHART, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(r.stderr).toMatch(message);
  });
});

describe('demo function values', () => {
  it('values.yaml `functions` is what scripts/gen-helm-values.mjs generates from functions/catalog.json', async () => {
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'scripts/gen-helm-values.mjs'), '--check'], (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
      );
    });
    expect(result.out).toMatch(/match functions\/catalog\.json/);
    expect(result.code).toBe(0);

    const values = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
    expect(values.functions).toEqual(
      catalog.functions.map((f) => ({ name: f.name, repository: f.image.replace(/:[^:/]+$/, ''), ...f.spec })),
    );
    expect(catalog.functions.every((f) => f.image.endsWith(`:${values.image.tag}`))).toBe(true);
  });
});

describe('NOTES.txt', () => {
  const notes = renderNotes;

  it('prints the NodePort endpoints and every registered function', async () => {
    const text = await notes();
    expect(text).toContain(`TOKEN=$(kubectl -n nanofaas get secret nanofaas-api-token -o jsonpath='{.data.token}' | base64 -d)`);
    expect(text).toContain('-H "Authorization: Bearer $TOKEN"');
    expect(text).toContain('API:        http://$NODE_IP:30080/v1/functions');
    expect(text).toContain('Metrics:    http://$NODE_IP:30081/metrics');
    expect(text).toContain('Prometheus: http://$NODE_IP:30090');
    for (const fn of catalog.functions) expect(text).toContain(`- ${fn.name} (${fn.spec.runtimeMode})`);
  });

  it('warns when auth is off, and shows no token command then', async () => {
    const text = await notes(['--set', 'auth.enabled=false']);
    expect(text).toContain('WARNING: auth.enabled=false');
    expect(text).not.toContain('Authorization');
  });

  it('explains port-forward when the services are ClusterIP', async () => {
    const text = await notes(['--set', 'controlPlane.service.type=ClusterIP']);
    expect(text).toContain('kubectl -n nanofaas port-forward svc/nanofaas-control-plane 8080 8081');
    expect(text).toContain('curl -s -X POST http://127.0.0.1:8080/v1/functions/word-stats-python:invoke');
    expect(text).not.toContain('30080');
  });
});
