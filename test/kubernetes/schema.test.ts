// Every object the kubernetes workload backend creates is valid against the Kubernetes OpenAPI
// schema (kubernetes-models, ./schema.ts): for the 8 demo functions and for specs at the edges of
// the FunctionSpec contract. The backend runs for real (@kubernetes/client-node) against the FAKE
// API server, which validates each body with the same schema and answers 422 like a real one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { callbackCredentials } from '../../control-plane/src/api/callback-credential.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import { deploymentFor, serviceFor } from '../../control-plane/src/workloads/kubernetes/manifests.js';
import {
  createKubernetesBackend,
  KubernetesBackendError,
  type KubernetesBackend,
} from '../../control-plane/src/workloads/kubernetes/index.js';
import type { CatalogFunction } from '../../src/util/catalog.js';
import { specFor } from '../../src/util/catalog.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { backendOptions, NAMESPACE, spec, TOKEN } from './helpers.js';
import { schemaErrors, schemaReport } from './schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const catalog = JSON.parse(readFileSync(path.join(ROOT, 'functions/catalog.json'), 'utf8')) as { functions: CatalogFunction[] };
/** The control plane's defaults (control-plane/src/config.ts), as registration fills them in. */
const DEFAULTS = { timeoutMs: 30_000, concurrency: 4, queueSize: 100, maxRetries: 3 };
const CALLBACK_URL = 'http://nanofaas-control-plane.nanofaas.svc.cluster.local:8080/v1/internal/executions';
/** As the chart installs them: the registry mirror's references. */
const demoSpecs: FunctionSpec[] = catalog.functions.map((fn) =>
  resolveSpec({ ...specFor(fn), image: `localhost:5000/${fn.image}` }, DEFAULTS),
);

let api: FakeApiServer;
const opened: KubernetesBackend[] = [];

function backend(extra: Partial<Parameters<typeof createKubernetesBackend>[0]> = {}): KubernetesBackend {
  const b = createKubernetesBackend({
    ...backendOptions(api.url),
    callbackBaseUrl: CALLBACK_URL,
    callbackToken: callbackCredentials('an-api-token').token,
    ...extra,
  });
  opened.push(b);
  return b;
}

/** What the fake stored for a function (it stored it only if it validated). */
function stored(name: string) {
  return [api.get('Deployment', `fn-${name}`), api.get('Service', `fn-${name}`)].filter((o) => o !== undefined);
}

beforeAll(async () => {
  api = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await api.close();
});

describe('the schema check itself', () => {
  it('finds what a real API server rejects: a wrong type, an unsupported enum value, a missing field, a bad quantity', () => {
    const d = deploymentFor(spec({ name: 'probe' }), { namespace: NAMESPACE }) as any;
    expect(schemaErrors(d)).toEqual([]);
    const c = d.spec.template.spec.containers[0];
    c.imagePullPolicy = 'Sometimes';
    c.env[0].value = 8080;
    delete c.ports[0].containerPort;
    c.resources = { requests: { cpu: 'lots' } };
    expect(schemaErrors(d)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'spec.template.spec.containers[0].imagePullPolicy', reason: 'FieldValueNotSupported' }),
        expect.objectContaining({ field: 'spec.template.spec.containers[0].env[0].value', reason: 'FieldValueTypeInvalid' }),
        expect.objectContaining({ field: 'spec.template.spec.containers[0].ports[0].containerPort', reason: 'FieldValueRequired' }),
        expect.objectContaining({ field: 'spec.template.spec.containers[0].resources.requests.cpu', reason: 'FieldValueInvalid' }),
      ]),
    );
    expect(schemaErrors({ apiVersion: 'v1', kind: 'Widget' })).toEqual([
      expect.objectContaining({ message: 'no schema here for v1/Widget' }),
    ]);
  });
});

describe('the 8 demo functions', () => {
  it('their Deployments and Services are schema-valid as built, with either pull policy', () => {
    expect(demoSpecs).toHaveLength(8);
    const objects = (['Always', 'IfNotPresent'] as const).flatMap((imagePullPolicy) =>
      demoSpecs.flatMap((s) => {
        const ctx = { namespace: 'nanofaas', callbackBaseUrl: CALLBACK_URL, callbackToken: () => 'cb-token', imagePullPolicy };
        return [deploymentFor(s, ctx), serviceFor(s, ctx)];
      }),
    );
    expect(objects).toHaveLength(32);
    expect(schemaReport(objects)).toEqual([]);
  });

  it('the backend provisions all 8 through the schema-checking fake; the 16 stored objects are valid', async () => {
    const b = backend({ imagePullPolicy: 'Always' });
    for (const s of demoSpecs) await b.provision(s);
    const objects = demoSpecs.flatMap((s) => stored(s.name));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toHaveLength(16);
    expect(schemaReport(objects)).toEqual([]);
    // The exec demo functions run under the watchdog in STDIO mode, with the catalog's env.
    const exec = api.get('Deployment', 'fn-word-stats-exec')!;
    expect(exec.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'EXECUTION_MODE', value: 'STDIO' },
        { name: 'WATCHDOG_PRESPAWN', value: '2' },
      ]),
    );
  });
});

describe('specs at the edges of the FunctionSpec contract', () => {
  const LONGEST = `a${'-b'.repeat(29)}c`.slice(0, 60);
  const edges: [string, Partial<FunctionSpec>][] = [
    ['the longest name (60 chars: fn-<name> is 63)', { name: LONGEST }],
    ['a one-character name', { name: 'x' }],
    ['replicas 0 (scaled to zero)', { name: 'zero', replicas: 0 }],
    ['replicas 100 (the contract maximum)', { name: 'hundred', replicas: 100 }],
    [
      'the most env: 256 variables of 8192 characters',
      {
        name: 'env-max',
        env: Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`VAR_${i}`, `v${i}`.padEnd(8192, 'x')])),
      },
    ],
    ['env with names that collide with the backend’s own', { name: 'env-reserved', env: { PORT: '1', CALLBACK_TOKEN: 'x', _lower: 'ok' } }],
    ['cpu and memory in every quantity form', { name: 'res-a', resources: { cpu: '1500m', memory: '1Gi' } }],
    ['decimal and exponent quantities', { name: 'res-b', resources: { cpu: '0.5', memory: '1e9' } }],
    ['a plain-integer memory and no cpu', { name: 'res-c', resources: { memory: '134217728' } }],
    ['cpu only (no limits at all)', { name: 'res-d', resources: { cpu: '2' } }],
    ['HTTP with its own command (64 arguments)', { name: 'http-cmd', command: Array.from({ length: 64 }, (_, i) => `--arg-${i}`) }],
    [
      'STDIO with the longest command (64 × 4096 chars in WATCHDOG_CMD)',
      { name: 'stdio-long', runtimeMode: 'STDIO', command: Array.from({ length: 64 }, () => 'y'.repeat(4096)) },
    ],
    [
      'FILE with a runtimeCommand and a handler',
      { name: 'file-mode', runtimeMode: 'FILE', runtimeCommand: 'gojq -f /app/h.jq', handler: 'h.jq' },
    ],
    ['the longest image reference (512 chars)', { name: 'long-image', image: `registry.example:5000/${'n'.repeat(486)}:tag` }],
    ['the extreme timeouts', { name: 'timeouts', timeoutMs: 900_000 }],
  ];

  it.each(edges)('%s: provisioned, and both objects valid', async (_what, overrides) => {
    const s = spec(overrides);
    if (overrides.image) expect(s.image).toHaveLength(512);
    const b = backend();
    await b.provision(s);
    const objects = stored(s.name);
    expect(objects).toHaveLength(2);
    expect(schemaReport(objects)).toEqual([]);
    expect(objects[0]!.metadata.name.length).toBeLessThanOrEqual(63);
  });

  it('scaling to 100 and back to 0 keeps the Deployment valid', async () => {
    const b = backend();
    await b.provision(spec({ name: 'scaled' }));
    await b.scale('scaled', 100);
    expect(api.get('Deployment', 'fn-scaled')!.spec.replicas).toBe(100);
    await b.scale('scaled', 0);
    const d = api.get('Deployment', 'fn-scaled')!;
    expect(d.spec.replicas).toBe(0);
    expect(schemaErrors(d)).toEqual([]);
  });
});

describe('an invalid manifest is caught where a real cluster would catch it', () => {
  it('the fake answers 422 with a Status (reason Invalid, field causes), as a real API server does', async () => {
    const d = deploymentFor(spec({ name: 'raw' }), { namespace: NAMESPACE }) as any;
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const res = await fetch(`${api.url}/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(d),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      message: expect.stringMatching(/^Deployment "fn-raw" is invalid: spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort: /),
      details: {
        name: 'fn-raw',
        group: 'apps',
        kind: 'Deployment',
        causes: [
          {
            field: 'spec.template.spec.containers[0].ports[0].containerPort',
            reason: 'FieldValueTypeInvalid',
            message: 'Invalid value: "http": must be integer',
          },
        ],
      },
    });
    expect(api.get('Deployment', 'fn-raw')).toBeUndefined();
  });

  it('a backend that builds an unsupported imagePullPolicy fails provision with VALIDATION_ERROR naming the field', async () => {
    // The option is typed; a value from an unchecked config would reach the manifest like this.
    const b = backend({ imagePullPolicy: 'Sometimes' as 'Always' });
    const err = await b.provision(spec({ name: 'bad-pull' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubernetesBackendError);
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', apiStatus: 422, details: { reason: 'Invalid' } });
    expect((err as KubernetesBackendError).details).toMatchObject({
      causes: [expect.stringMatching(/^spec\.template\.spec\.containers\[0\]\.imagePullPolicy: Unsupported value: "Sometimes"/)],
    });
    expect(api.get('Deployment', 'fn-bad-pull')).toBeUndefined();
  });

  it('an env value that is not a string (a manifest bug the old hand checks missed) is a 422 too', async () => {
    const b = backend();
    const err = await b
      .provision(spec({ name: 'bad-env', env: { RETRIES: 3 as unknown as string } }))
      .catch((e: unknown) => e as KubernetesBackendError);
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', apiStatus: 422 });
    expect((err as KubernetesBackendError).details).toMatchObject({
      causes: [expect.stringMatching(/^spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value: Invalid value: 3: must be string/)],
    });
  });
});
