// NATS mode of helm/nanofaas (issue 14, docs/design.md §3.12), with the real helm binary: the
// bundled JetStream StatefulSet and its password (a Secret generated once, or the user's), an
// external URL (plain, or from a Secret), the schema's refusal of several replicas without NATS,
// the PodDisruptionBudget, and the rendered nats.conf + args + env run by the real nats-server and
// reached through the control plane's own client with the URL the chart gives it, $(NATS_PASSWORD)
// expanded as Kubernetes would.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../control-plane/src/config.js';
import { connectNats, type NatsClient } from '../../control-plane/src/nats/client.js';
import { schemaReport } from '../kubernetes/schema.js';
import { NATS_SERVER } from '../nats/nats-server.js';
import {
  CHART,
  find,
  helm,
  type K8sObject,
  removeScratch,
  render,
  scratchDir,
  valuesFile,
  chartWithLookupAnswer,
  renderNotes,
} from './helm.js';

const CP = 'nanofaas-control-plane';
const NATS = 'nanofaas-nats';
const NATS_HOST = 'nanofaas-nats.nanofaas.svc.cluster.local:4222';
const NATS_URL = `nats://${NATS_HOST}`;
/** The control plane's URL for the bundled server: the password is only named, never written. */
const NATS_AUTH_URL = `nats://nanofaas:$(NATS_PASSWORD)@${NATS_HOST}`;
const PASSWORD_ENV = {
  name: 'NATS_PASSWORD',
  valueFrom: { secretKeyRef: { name: `${NATS}-auth`, key: 'password' } },
};

afterAll(() => removeScratch());

const cpContainer = (objs: K8sObject[]) => find(objs, 'Deployment', CP).spec.template.spec.containers[0];
const WAIT_SCRIPT = readFileSync(path.join(CHART, 'files/wait-for-nats.cjs'), 'utf8');
const natsEnv = (objs: K8sObject[]) =>
  cpContainer(objs).env.filter((e: any) => e.name.startsWith('NANOFAAS_NATS') || e.name === 'NATS_PASSWORD');
/** The generated password, as the Secret holds it (base64-decoded). */
const password = (objs: K8sObject[], name = `${NATS}-auth`, key = 'password') =>
  Buffer.from(find(objs, 'Secret', name).data[key], 'base64').toString('utf8');

/**
 * A container's env as the kubelet resolves it: valueFrom.secretKeyRef from `secrets` (name → key →
 * value), and $(NAME) in a value replaced by an entry defined before it (left as is otherwise).
 */
function resolveEnv(env: any[], secrets: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secrets[ref.name]?.[ref.key];
      if (value === undefined) throw new Error(`no key ${ref.key} in Secret ${ref.name}`);
      out[e.name] = value;
    } else if (typeof e.value === 'string') {
      out[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole: string, name: string) => out[name] ?? whole);
    }
  }
  return out;
}

describe('nats.enabled: the bundled JetStream server', () => {
  let objs: K8sObject[];
  beforeAll(async () => {
    objs = await render(['--set', 'nats.enabled=true', '--set', 'controlPlane.replicas=2']);
  });

  it('renders a ConfigMap, the password Secret, headless + client Service, the StatefulSet, a NetworkPolicy and the PDB, all schema-valid', () => {
    const natsObjects = objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'nats');
    expect(natsObjects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        `ConfigMap/${NATS}`,
        `NetworkPolicy/${NATS}`,
        `Secret/${NATS}-auth`,
        `Service/${NATS}`,
        `Service/${NATS}-headless`,
        `StatefulSet/${NATS}`,
      ].sort(),
    );
    expect(objs.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name)).toEqual([CP]);
    // 14 objects of the default install + 6 of NATS + the PDB.
    expect(objs).toHaveLength(21);
    expect(schemaReport(objs)).toEqual([]);
  });

  it('runs nats-server -js -sd /data on a PVC from volumeClaimTemplates, probed on /healthz?js-enabled-only=true', () => {
    const sts = find(objs, 'StatefulSet', NATS);
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe(`${NATS}-headless`);
    const pod = sts.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('docker.io/nats:2.10-alpine');
    expect(c.command).toEqual(['nats-server']);
    expect(c.args).toEqual(['--config', '/etc/nats/nats.conf', '-js', '-sd', '/data']);
    expect(c.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/nats', readOnly: true },
      { name: 'data', mountPath: '/data' },
    ]);
    expect(pod.volumes).toEqual([{ name: 'config', configMap: { name: NATS } }]);
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data', labels: sts.spec.selector.matchLabels },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      },
    ]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(c[probe].httpGet, probe).toEqual({ path: '/healthz?js-enabled-only=true', port: 'monitoring' });
    }
    expect(c.ports).toEqual([
      { name: 'client', containerPort: 4222, protocol: 'TCP' },
      { name: 'monitoring', containerPort: 8222, protocol: 'TCP' },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    expect(c.env).toEqual([{ name: 'NATS_SERVER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, PASSWORD_ENV]);
  });

  it('hardens the NATS pod like every other: non-root, read-only root fs, no privilege escalation, no API token', () => {
    const pod = find(objs, 'StatefulSet', NATS).spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('exposes the client port on a ClusterIP Service and both ports on the headless one', () => {
    const client = find(objs, 'Service', NATS);
    expect(client.spec.type).toBe('ClusterIP');
    expect(client.spec.ports.map((p: any) => [p.name, p.port])).toEqual([['client', 4222]]);
    const headless = find(objs, 'Service', `${NATS}-headless`);
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(headless.spec.ports.map((p: any) => [p.name, p.port])).toEqual([
      ['client', 4222],
      ['monitoring', 8222],
    ]);
    const selector = find(objs, 'StatefulSet', NATS).spec.selector.matchLabels;
    expect(client.spec.selector).toEqual(selector);
    expect(headless.spec.selector).toEqual(selector);
  });

  it('gives the control plane NATS_PASSWORD from the Secret, then NANOFAAS_NATS_URL naming $(NATS_PASSWORD): a URL its config accepts once expanded', () => {
    expect(natsEnv(objs)).toEqual([PASSWORD_ENV, { name: 'NANOFAAS_NATS_URL', value: NATS_AUTH_URL }]);
    const env = resolveEnv(cpContainer(objs).env, { [`${NATS}-auth`]: { password: password(objs) } });
    expect(env.NANOFAAS_NATS_URL).toBe(`nats://nanofaas:${password(objs)}@${NATS_HOST}`);
    expect(loadConfig({ NANOFAAS_NATS_URL: env.NANOFAAS_NATS_URL }).nats?.url).toBe(env.NANOFAAS_NATS_URL);
  });

  it('generates a 32-character password that starts with a letter (letters and digits only), into the Secret alone', () => {
    const secret = find(objs, 'Secret', `${NATS}-auth`);
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data)).toEqual(['password']);
    expect(password(objs)).toMatch(/^[A-Za-z][A-Za-z0-9]{31}$/);
    // Nowhere else, in clear or base64: not in nats.conf, not in any pod spec.
    const others = JSON.stringify(objs.filter((o) => o !== secret));
    expect(others).not.toContain(password(objs));
    expect(others).not.toContain(secret.data.password);
    const conf = find(objs, 'ConfigMap', NATS).data['nats.conf'];
    expect(conf).toContain('authorization {\n  user: "nanofaas"\n  password: $NATS_PASSWORD\n}');
  });

  it('admits only the control-plane pods to the client port (defence in depth on top of the password)', () => {
    const policy = find(objs, 'NetworkPolicy', NATS);
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: find(objs, 'StatefulSet', NATS).spec.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: find(objs, 'Deployment', CP).spec.selector.matchLabels } }],
          ports: [{ port: 'client', protocol: 'TCP' }],
        },
        { ports: [{ port: 'monitoring', protocol: 'TCP' }] },
      ],
    });
  });

  it('makes the control plane wait for NATS in an init container (files/wait-for-nats.cjs, the control-plane image)', () => {
    const pod = find(objs, 'Deployment', CP).spec.template.spec;
    expect(pod.initContainers).toHaveLength(1);
    const init = pod.initContainers[0];
    expect(init.name).toBe('wait-for-nats');
    expect(init.image).toBe(cpContainer(objs).image);
    expect(init.command).toEqual(['node', '-e', WAIT_SCRIPT]);
    // Only the address: it opens a TCP connection and never authenticates, so it gets no password.
    expect(init.env).toEqual([{ name: 'NANOFAAS_NATS_URL', value: NATS_URL }]);
    expect(init.securityContext).toEqual(cpContainer(objs).securityContext);
  });

  it('keeps /readyz as the readiness probe (it includes NATS and JetStream in NATS mode) and rolls updates', () => {
    const dep = find(objs, 'Deployment', CP);
    expect(dep.spec.replicas).toBe(2);
    expect(cpContainer(objs).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'management' });
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('adds a PodDisruptionBudget of maxUnavailable 1 over the control-plane pods', () => {
    const pdb = find(objs, 'PodDisruptionBudget', CP);
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: find(objs, 'Deployment', CP).spec.selector.matchLabels } });
  });

  it('one replica: no PDB (it could only block node drains); nats.networkPolicy.enabled=false drops the policy', async () => {
    const one = await render(['--set', 'nats.enabled=true', '--set', 'nats.networkPolicy.enabled=false']);
    expect(one.some((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'NetworkPolicy')).toBe(false);
    expect(find(one, 'Deployment', CP).spec.replicas).toBe(1);
    expect(find(one, 'Deployment', CP).spec.strategy.type).toBe('RollingUpdate');
  });

  it('a cpu limit becomes GOMAXPROCS (whole cores) through resourceFieldRef; without one, Go is left to itself', async () => {
    const limited = await render(['-f', valuesFile({ nats: { enabled: true, resources: { limits: { cpu: '1500m', memory: '1Gi' } } } })]);
    const env = (o: K8sObject[]) => find(o, 'StatefulSet', NATS).spec.template.spec.containers[0].env as { name: string }[];
    expect(env(limited).find((e) => e.name === 'GOMAXPROCS')).toEqual({
      name: 'GOMAXPROCS',
      valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } },
    });
    expect(env(objs).map((e) => e.name)).not.toContain('GOMAXPROCS');
    expect(schemaReport(limited)).toEqual([]);
  });

  it('takes the PVC size, storage class, image and JetStream limits from values', async () => {
    const custom = await render([
      '-f',
      valuesFile({
        nats: {
          enabled: true,
          image: { registry: 'registry.example:5000', repository: 'mirror/nats', tag: '2.10.22-alpine' },
          persistence: { size: '50Gi', storageClass: 'fast-ssd' },
          jetstream: { maxFileStore: '40GB', maxMemoryStore: '1GB' },
        },
      }),
    ]);
    const sts = find(custom, 'StatefulSet', NATS);
    expect(sts.spec.template.spec.containers[0].image).toBe('registry.example:5000/mirror/nats:2.10.22-alpine');
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '50Gi' } },
    });
    const conf = find(custom, 'ConfigMap', NATS).data['nats.conf'];
    expect(conf).toContain('max_file_store: 40GB');
    expect(conf).toContain('max_memory_store: 1GB');
    // The pod restarts when its configuration changes.
    const annotation = (o: K8sObject[]) => find(o, 'StatefulSet', NATS).spec.template.metadata.annotations['checksum/config'];
    expect(annotation(custom)).not.toBe(annotation(objs));
    expect(schemaReport(custom)).toEqual([]);
  });

  it('an upgrade keeps the password the lookup finds in the cluster (the server and the control plane keep agreeing)', async () => {
    const kept = Buffer.from('KeptFromTheFirstInstall').toString('base64');
    const copy = chartWithLookupAnswer('nanofaas.nats.auth.existing', { password: kept });
    const r = await helm(['template', 'nanofaas', copy, '--namespace', 'nanofaas', '--set', 'nats.enabled=true']);
    expect(r.stderr).toBe('');
    const secrets = r.stdout.split('\n---\n').filter((d) => d.includes(`name: ${NATS}-auth\n`) && d.includes('kind: Secret'));
    expect(secrets).toHaveLength(1);
    expect(parse(secrets[0]!).data.password).toBe(kept);
    // Without the lookup's answer (a first install) each render draws a new one.
    expect(password(await render(['--set', 'nats.enabled=true']))).not.toBe(password(objs));
  });

  it('nats.auth.existingSecret (+ passwordKey, user): no Secret of its own, both pods read the given one', async () => {
    const own = await render([
      '-f',
      valuesFile({ nats: { enabled: true, auth: { existingSecret: 'my-nats', passwordKey: 'pw', user: 'faas-cp' } } }),
    ]);
    expect(own.some((o) => o.kind === 'Secret' && o.metadata.name.includes('nats'))).toBe(false);
    const ref = { name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: { name: 'my-nats', key: 'pw' } } };
    expect(natsEnv(own)).toEqual([ref, { name: 'NANOFAAS_NATS_URL', value: `nats://faas-cp:$(NATS_PASSWORD)@${NATS_HOST}` }]);
    expect(find(own, 'StatefulSet', NATS).spec.template.spec.containers[0].env[1]).toEqual(ref);
    expect(find(own, 'ConfigMap', NATS).data['nats.conf']).toContain('user: "faas-cp"');
    expect(schemaReport(own)).toEqual([]);
  });

  it('nats.auth.enabled=false: no Secret, no authorization block, the plain URL (the NetworkPolicy alone guards the port)', async () => {
    const open = await render(['--set', 'nats.enabled=true', '--set', 'nats.auth.enabled=false']);
    expect(open.some((o) => o.kind === 'Secret' && o.metadata.name.includes('nats'))).toBe(false);
    expect(find(open, 'ConfigMap', NATS).data['nats.conf']).not.toContain('authorization');
    expect(natsEnv(open)).toEqual([{ name: 'NANOFAAS_NATS_URL', value: NATS_URL }]);
    expect(find(open, 'StatefulSet', NATS).spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(['NATS_SERVER_NAME']);
    expect(open.some((o) => o.kind === 'NetworkPolicy')).toBe(true);
    expect(schemaReport(open)).toEqual([]);
  });

  it.each([
    ['nats.auth.user=1st', /nats\.auth\.user: Does not match pattern/],
    ['nats.auth.user=a@b', /nats\.auth\.user: Does not match pattern/],
    ['nats.auth.existingSecret=Not_A_Name', /nats\.auth\.existingSecret: Does not match pattern/],
    ['nats.auth.passwordKey=a/b', /nats\.auth\.passwordKey: Does not match pattern/],
  ])('the schema refuses %s', async (set, message) => {
    const r = await helm(['template', 'nanofaas', CHART, '--set', 'nats.enabled=true', '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('helm lint passes with the NATS values', async () => {
    const r = await helm(['lint', CHART, '--set', 'nats.enabled=true', '--set', 'controlPlane.replicas=3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe('NOTES.txt', () => {
  const notes = renderNotes;

  it('names the NATS server and the replica count in NATS mode, and says nothing of NATS otherwise', async () => {
    const text = await notes(['--set', 'nats.enabled=true', '--set', 'controlPlane.replicas=2']);
    expect(text).toContain(
      `NATS mode (2 control-plane replica(s)): async work, executions and the registry are in\nJetStream at ${NATS_URL}.`,
    );
    expect(text).toContain(`Server: kubectl -n nanofaas logs statefulset/${NATS}`);
    expect(text).toContain(
      `User nanofaas, password: kubectl -n nanofaas get secret ${NATS}-auth -o jsonpath='{.data.password}' | base64 -d`,
    );
    expect(text).not.toContain('WARNING');
    const open = await notes(['--set', 'nats.enabled=true', '--set', 'nats.auth.enabled=false']);
    expect(open).toContain('WARNING: nats.auth.enabled=false: the server has no password');
    const fromSecret = await notes(['--set', 'nats.existingUrlSecret=nats-url']);
    expect(fromSecret).toContain('JetStream at the URL in Secret nats-url (key url).');
    const external = await notes(['--set', 'nats.url=nats://nats.messaging.svc:4222']);
    expect(external).toContain('JetStream at nats://nats.messaging.svc:4222.');
    expect(external).not.toContain('statefulset');
    expect(await notes([])).not.toContain('NATS');
  });
});

describe('nats.url: an external server', () => {
  it('nats.url: no NATS objects, the control plane gets the URL as NANOFAAS_NATS_URL, and a PDB with 2 replicas', async () => {
    const objs = await render(['--set', 'nats.url=nats://nats.messaging.svc:4222', '--set', 'controlPlane.replicas=2']);
    expect(objs.some((o) => o.kind === 'StatefulSet' || o.metadata.name.includes('nats'))).toBe(false);
    expect(natsEnv(objs)).toEqual([{ name: 'NANOFAAS_NATS_URL', value: 'nats://nats.messaging.svc:4222' }]);
    expect(find(objs, 'Deployment', CP).spec.template.spec.initContainers[0].env).toEqual(natsEnv(objs));
    expect(find(objs, 'PodDisruptionBudget', CP).spec.maxUnavailable).toBe(1);
    expect(schemaReport(objs)).toEqual([]);
    const lint = await helm(['lint', CHART, '--set', 'nats.url=tls://nats.example:4222', '--set', 'controlPlane.replicas=2']);
    expect(lint.code).toBe(0);
  });

  it('nats.existingUrlSecret: the URL (credentials and all) comes from the Secret into both containers, never into values or the spec', async () => {
    const objs = await render([
      '--set',
      'nats.existingUrlSecret=nats-url',
      '--set',
      'nats.existingUrlSecretKey=NATS_URL',
      '--set',
      'controlPlane.replicas=2',
    ]);
    const fromSecret = { name: 'NANOFAAS_NATS_URL', valueFrom: { secretKeyRef: { name: 'nats-url', key: 'NATS_URL' } } };
    expect(natsEnv(objs)).toEqual([fromSecret]);
    const dep = find(objs, 'Deployment', CP);
    expect(dep.spec.template.spec.initContainers[0].env).toEqual([fromSecret]);
    expect(dep.spec.strategy.type).toBe('RollingUpdate');
    expect(find(objs, 'PodDisruptionBudget', CP).spec.maxUnavailable).toBe(1);
    expect(objs.some((o) => o.kind === 'StatefulSet' || o.metadata.name.includes('nats'))).toBe(false);
    expect(schemaReport(objs)).toEqual([]);
  });

  it('nats.url with credentials is refused by the schema: they belong in nats.existingUrlSecret', async () => {
    const r = await helm(['template', 'nanofaas', CHART, '--set', 'nats.url=nats://cp:hunter2@nats.example:4222']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nats.url: Does not match pattern');
  });

  it('without NATS the control plane has no NATS env and keeps Recreate (state in memory)', async () => {
    const objs = await render();
    expect(natsEnv(objs)).toEqual([]);
    expect(find(objs, 'Deployment', CP).spec.strategy).toEqual({ type: 'Recreate' });
    expect(find(objs, 'Deployment', CP).spec.template.spec.initContainers).toBeUndefined();
    expect(objs.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  it('a URL the control plane would refuse is refused by the schema', async () => {
    const r = await helm(['template', 'nanofaas', CHART, '--set', 'nats.url=http://nats:4222']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nats.url: Does not match pattern');
  });
});

describe('refusals', () => {
  const SCHEMA_MESSAGE = 'nats.enabled=true, nats.url or nats.existingUrlSecret (controlPlane.replicas > 1 needs NATS) is required';

  it.each([2, 3])('controlPlane.replicas=%i without NATS: helm fails with the schema message', async (replicas) => {
    const r = await helm(['template', 'nanofaas', CHART, '--set', `controlPlane.replicas=${replicas}`]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(`- (root): ${SCHEMA_MESSAGE}`);
    expect(r.stderr).toContain('- controlPlane.replicas: Must be less than or equal to 1');
  });

  it('helm lint refuses it too; 0 and 1 replicas without NATS still pass', async () => {
    const lint = await helm(['lint', CHART, '--set', 'controlPlane.replicas=2']);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout + lint.stderr).toContain(SCHEMA_MESSAGE);
    for (const n of [0, 1])
      expect((await helm(['template', 'nanofaas', CHART, '--set', `controlPlane.replicas=${n}`])).code, String(n)).toBe(0);
  });

  it.each([
    [
      ['--set', 'nats.enabled=true', '--set', 'nats.url=nats://a:4222'],
      'nats.enabled deploys a NATS server for the control plane: leave nats.url and nats.existingUrlSecret empty',
    ],
    [
      ['--set', 'nats.enabled=true', '--set', 'nats.existingUrlSecret=nats-url'],
      'nats.enabled deploys a NATS server for the control plane: leave nats.url and nats.existingUrlSecret empty',
    ],
    [
      ['--set', 'nats.url=nats://a:4222', '--set', 'nats.existingUrlSecret=nats-url'],
      'nats.url and nats.existingUrlSecret both name the external NATS server: set one',
    ],
    [
      ['-f', valuesFile({ controlPlane: { extraEnv: [{ name: 'NANOFAAS_NATS_URL', value: 'nats://a:4222' }] } })],
      'controlPlane.extraEnv must not set NANOFAAS_NATS_URL: use nats.enabled, nats.url or nats.existingUrlSecret instead',
    ],
    [
      ['-f', valuesFile({ nats: { enabled: true }, controlPlane: { extraEnv: [{ name: 'NATS_PASSWORD', value: 'x' }] } })],
      "controlPlane.extraEnv must not set NATS_PASSWORD: the chart sets it from the bundled server's Secret",
    ],
  ])('one source of the NATS URL: refuses %j', async (args, message) => {
    const r = await helm(['template', 'nanofaas', CHART, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('the rendered nats.conf and args, run by the real nats-server', () => {
  let server: ChildProcess | undefined;
  let client: NatsClient | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await client?.close();
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts nats-server as the StatefulSet would (its args, env and config), on 127.0.0.1 and free ports. */
  function start(
    conf: string,
    args: string[],
    env: Record<string, string>,
    clientPort = -1,
  ): Promise<{ client: number; monitoring: number; store: string }> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nanofaas-helm-nats-'));
    const confFile = path.join(dir, 'nats.conf');
    const store = path.join(dir, 'data');
    writeFileSync(confFile, conf);
    const argv = args.map((a) => (a === '/etc/nats/nats.conf' ? confFile : a === '/data' ? store : a));
    // Command-line flags override the file: local address and random ports, nothing else changes.
    server = spawn(NATS_SERVER, [...argv, '-a', '127.0.0.1', '-p', String(clientPort), '-m', '-1'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = server;
    const lines: string[] = [];
    return new Promise((resolve, reject) => {
      const ports = { client: 0, monitoring: 0 };
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${lines.join('\n')}`)), 15_000);
      child.once('error', (err) => reject(new Error(`could not run ${NATS_SERVER}: ${err.message}`)));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${lines.join('\n')}`));
      });
      const onLine = (line: string): void => {
        lines.push(line);
        const client = /Listening for client connections on [^:]+:(\d+)/.exec(line);
        if (client) ports.client = Number(client[1]);
        const monitoring = /Starting http monitor on [^:]+:(\d+)/.exec(line);
        if (monitoring) ports.monitoring = Number(monitoring[1]);
        if (/Server is ready/.test(line)) {
          clearTimeout(timer);
          resolve({ ...ports, store });
        }
      };
      createInterface({ input: child.stderr! }).on('line', onLine);
      createInterface({ input: child.stdout! }).on('line', onLine);
    });
  }

  /** The StatefulSet's env as the kubelet gives it: the pod's name, and NATS_PASSWORD from the chart's Secret. */
  function serverEnv(objs: K8sObject[]): Record<string, string> {
    const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
    const secrets = { [`${NATS}-auth`]: { password: password(objs) } };
    return { ...resolveEnv(c.env, secrets), NATS_SERVER_NAME: `${NATS}-0` };
  }

  /** The control plane's NANOFAAS_NATS_URL, $(NATS_PASSWORD) expanded, pointed at this server instead of the Service. */
  function controlPlaneUrl(
    objs: K8sObject[],
    clientPort: number,
    secrets: Record<string, Record<string, string>> = { [`${NATS}-auth`]: { password: password(objs) } },
  ): string {
    const url = resolveEnv(cpContainer(objs).env, secrets).NANOFAAS_NATS_URL!;
    expect(url).toContain(NATS_HOST);
    return loadConfig({ NANOFAAS_NATS_URL: url.replace(NATS_HOST, `127.0.0.1:${clientPort}`) }).nats!.url;
  }

  it('starts with authorization, JetStream on the store dir and 8 MB payloads, answers the probe path, and serves the control plane with the password from the Secret', async () => {
    const objs = await render(['--set', 'nats.enabled=true']);
    const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
    const running = await start(find(objs, 'ConfigMap', NATS).data['nats.conf'], c.args, serverEnv(objs));

    // The probes need no credentials (the monitoring port has none).
    const probe = await fetch(`http://127.0.0.1:${running.monitoring}${c.readinessProbe.httpGet.path}`);
    expect(probe.status).toBe(200);
    expect(await probe.json()).toEqual({ status: 'ok' });
    const varz = (await (await fetch(`http://127.0.0.1:${running.monitoring}/varz`)).json()) as Record<string, any>;
    expect(varz.server_name).toBe(`${NATS}-0`);
    expect(varz.auth_required).toBe(true);
    expect(varz.max_payload).toBe(8 * 1024 * 1024);
    expect(varz.jetstream.config.store_dir).toBe(path.join(running.store, 'jetstream'));
    expect(varz.jetstream.config.max_storage).toBe(8 * 1024 ** 3);
    expect(varz.jetstream.config.max_memory).toBe(256 * 1024 ** 2);

    // The control plane's own client, with the URL the chart builds for it.
    const url = controlPlaneUrl(objs, running.client);
    expect(url).toBe(`nats://nanofaas:${password(objs)}@127.0.0.1:${running.client}`);
    client = await connectNats({ url, connectTimeoutMs: 5_000 });
    expect((await client.jsm.getAccountInfo()).streams).toBe(0);
    const kv = await client.kvm.create('helm_check');
    await kv.put('k', 'v');
    expect((await kv.get('k'))?.string()).toBe('v');
    expect(existsSync(path.join(running.store, 'jetstream'))).toBe(true);
  });

  it('refuses a client without the password, or with another one: "Authorization Violation"', async () => {
    const objs = await render(['--set', 'nats.enabled=true']);
    const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
    const running = await start(find(objs, 'ConfigMap', NATS).data['nats.conf'], c.args, serverEnv(objs));
    const host = `127.0.0.1:${running.client}`;
    // The URL of the chart before this change (no credentials), and the chart's URL with $(NATS_PASSWORD) unset.
    await expect(connectNats({ url: `nats://${host}`, connectTimeoutMs: 2_000 })).rejects.toThrow(/Authorization Violation/);
    const unexpanded = resolveEnv(
      cpContainer(objs).env.filter((e: any) => e.name !== 'NATS_PASSWORD'),
      {},
    ).NANOFAAS_NATS_URL!.replace(NATS_HOST, host);
    expect(unexpanded).toBe(`nats://nanofaas:$(NATS_PASSWORD)@${host}`);
    await expect(connectNats({ url: unexpanded, connectTimeoutMs: 2_000 })).rejects.toThrow(/Authorization Violation/);
    // Another install's password (each first render draws a new one).
    const other = await render(['--set', 'nats.enabled=true']);
    const wrong = controlPlaneUrl(objs, running.client, { [`${NATS}-auth`]: { password: password(other) } });
    await expect(connectNats({ url: wrong, connectTimeoutMs: 2_000 })).rejects.toThrow(/Authorization Violation/);
  });

  it('nats.auth.existingSecret with a password using every allowed kind of character: server and client agree', async () => {
    const objs = await render(['--set', 'nats.enabled=true', '--set', 'nats.auth.existingSecret=my-nats']);
    const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
    const secrets = { 'my-nats': { password: 'Pw-1.e5_x~Y' } };
    const running = await start(find(objs, 'ConfigMap', NATS).data['nats.conf'], c.args, {
      ...resolveEnv(c.env, secrets),
      NATS_SERVER_NAME: `${NATS}-0`,
    });
    client = await connectNats({ url: controlPlaneUrl(objs, running.client, secrets), connectTimeoutMs: 5_000 });
    expect((await client.jsm.getAccountInfo()).streams).toBe(0);
  });

  it('why the generated password starts with a letter: nats-server parses $NATS_PASSWORD, and 1e5… does not even start', async () => {
    const objs = await render(['--set', 'nats.enabled=true']);
    const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
    await expect(
      start(find(objs, 'ConfigMap', NATS).data['nats.conf'], c.args, { NATS_SERVER_NAME: `${NATS}-0`, NATS_PASSWORD: '1e5abcdef' }),
    ).rejects.toThrow(/variable reference for 'NATS_PASSWORD'.*could not be parsed/);
  });

  it('the init container script waits while nothing listens, and ends once the server (with auth) is up', async () => {
    const objs = await render(['--set', 'nats.enabled=true']);
    const init = find(objs, 'Deployment', CP).spec.template.spec.initContainers[0];
    const port = await freePort();
    const waiter = spawn(process.execPath, init.command.slice(1), {
      // Its own env from the chart (the Service URL, no credentials), pointed at this port.
      env: { NANOFAAS_NATS_URL: resolveEnv(init.env, {}).NANOFAAS_NATS_URL!.replace(NATS_HOST, `127.0.0.1:${port}`) },
      cwd: scratchDir('wait-'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    const exited = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: waiter.stdout! });
      const firstLine = new Promise<string>((resolve) => lines.once('line', resolve));
      lines.on('line', (l) => out.push(l));
      expect(await firstLine).toBe(`[wait-for-nats] waiting for 127.0.0.1:${port}: ECONNREFUSED`);
      expect(waiter.exitCode).toBeNull();

      // The server requires the password; the script only needs the port to accept a connection.
      const c = find(objs, 'StatefulSet', NATS).spec.template.spec.containers[0];
      await start(find(objs, 'ConfigMap', NATS).data['nats.conf'], c.args, serverEnv(objs), port);
      expect(await exited).toBe(0);
      expect(out.at(-1)?.startsWith(`[wait-for-nats] 127.0.0.1:${port} reachable after `)).toBe(true);
      expect(out.at(-1)).toMatch(/ reachable after \d+ s$/);
    } finally {
      if (waiter.exitCode === null) {
        waiter.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('the init container script refuses a URL it cannot parse without printing its credentials', async () => {
    const objs = await render(['--set', 'nats.existingUrlSecret=nats-url']);
    const init = find(objs, 'Deployment', CP).spec.template.spec.initContainers[0];
    // An unencoded / in the password breaks the URL (existingUrlSecret's values say: percent-encode it).
    const waiter = spawn(process.execPath, init.command.slice(1), {
      env: { NANOFAAS_NATS_URL: 'nats://cp:hun/ter2@nats.example:4222' },
      cwd: scratchDir('wait-'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    waiter.stdout!.on('data', (d) => (output += d));
    waiter.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => waiter.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(output).toContain('[wait-for-nats] NANOFAAS_NATS_URL is not a URL: "nats://***@nats.example:4222"');
    expect(output).not.toContain('ter2');
  });
});

/** A port nothing listens on right now (the OS picks it; closed before use). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
