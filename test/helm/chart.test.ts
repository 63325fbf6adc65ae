// helm/nanofaas checked with the real helm binary (lint + template) and the rendered objects parsed.
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART, find, helm, removeScratch, render, ROOT, scratchDir, valuesFile, type K8sObject } from './helm.js';

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
  return objs
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => [`${o.kind}/${o.metadata.name}`, o.spec.template.spec]);
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
  it('renders extraEnv into the control-plane env and passes an API token to the hook', async () => {
    const objs = await render([
      '-f',
      valuesFile({
        controlPlane: {
          extraEnv: [
            { name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: 'false' },
            { name: 'NANOFAAS_API_TOKEN', valueFrom: { secretKeyRef: { name: 'nanofaas-token', key: 'token' } } },
          ],
        },
      }),
    ]);
    const env = find(objs, 'Deployment', CP).spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: 'false' });
    expect(env.filter((e: any) => e.name === 'SYNC_QUEUE_ADMISSION_ENABLED')).toHaveLength(1);
    const hookEnv = find(objs, 'Job', 'nanofaas-register').spec.template.spec.containers[0].env;
    expect(hookEnv).toContainEqual({ name: 'NANOFAAS_API_TOKEN', valueFrom: { secretKeyRef: { name: 'nanofaas-token', key: 'token' } } });
    expect(hookEnv.some((e: any) => e.name === 'SYNC_QUEUE_ADMISSION_ENABLED')).toBe(false);
  });

  it('takes NodePorts, registry and tag from values', async () => {
    const objs = await render([
      '--set', 'controlPlane.service.nodePorts.api=31080',
      '--set', 'controlPlane.service.nodePorts.management=31081',
      '--set', 'prometheus.service.nodePort=31090',
      '--set', 'image.registry=registry.example:5000',
      '--set', 'image.tag=1.2.3',
    ]);
    expect(find(objs, 'Service', CP).spec.ports.map((p: any) => p.nodePort)).toEqual([31080, 31081]);
    expect(find(objs, 'Service', PROM).spec.ports[0].nodePort).toBe(31090);
    expect(find(objs, 'Deployment', CP).spec.template.spec.containers[0].image).toBe('registry.example:5000/nanofaas/control-plane:1.2.3');
    expect(hookSpecs(objs).every((s) => /^registry\.example:5000\/nanofaas\/[a-z-]+:1\.2\.3$/.test(s.image))).toBe(true);
  });

  it('ClusterIP services carry no nodePort; Prometheus and registration can be turned off', async () => {
    const objs = await render([
      '--set', 'controlPlane.service.type=ClusterIP',
      '--set', 'prometheus.enabled=false',
      '--set', 'registration.enabled=false',
    ]);
    expect(find(objs, 'Service', CP).spec.ports.every((p: any) => p.nodePort === undefined)).toBe(true);
    expect(objs.some((o) => o.metadata.name.includes('prometheus') || o.metadata.name.includes('register'))).toBe(false);
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
  // helm template does not print NOTES.txt; a throwaway copy of the chart renders it into a ConfigMap.
  async function notes(args: string[] = []): Promise<string> {
    const copy = path.join(scratchDir('notes-'), 'nanofaas');
    cpSync(CHART, copy, { recursive: true });
    cpSync(path.join(CHART, 'templates/NOTES.txt'), path.join(copy, 'files/NOTES.src'));
    writeFileSync(
      path.join(copy, 'templates/notes-preview.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-preview\ndata:\n  notes: {{ tpl (.Files.Get "files/NOTES.src") . | quote }}\n',
    );
    const r = await helm(['template', 'nanofaas', copy, '--namespace', 'nanofaas', '--show-only', 'templates/notes-preview.yaml', ...args]);
    if (r.code !== 0) throw new Error(r.stderr);
    return parse(r.stdout).data.notes;
  }

  it('prints the NodePort endpoints and every registered function', async () => {
    const text = await notes();
    expect(text).toContain('API:        http://$NODE_IP:30080/v1/functions');
    expect(text).toContain('Metrics:    http://$NODE_IP:30081/metrics');
    expect(text).toContain('Prometheus: http://$NODE_IP:30090');
    for (const fn of catalog.functions) expect(text).toContain(`- ${fn.name} (${fn.spec.runtimeMode})`);
  });

  it('explains port-forward when the services are ClusterIP', async () => {
    const text = await notes(['--set', 'controlPlane.service.type=ClusterIP']);
    expect(text).toContain('kubectl -n nanofaas port-forward svc/nanofaas-control-plane 8080 8081');
    expect(text).toContain('curl -s -X POST http://127.0.0.1:8080/v1/functions/word-stats-python:invoke');
    expect(text).not.toContain('30080');
  });
});
