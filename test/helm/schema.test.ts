// Every object helm/nanofaas renders (the real helm binary's `helm template`) is valid against the
// Kubernetes OpenAPI schema (kubernetes-models, test/kubernetes/schema.ts): with the default
// values, with the values each cluster target generates (src/targets/cluster/helm-values.ts, as
// deploy-steps.ts calls it for multipass and kubeconfig), and with the chart's other modes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneImage } from '../../src/targets/cluster/images.js';
import { helmValues, type ValuesInput } from '../../src/targets/cluster/helm-values.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { schemaErrors, schemaReport } from '../kubernetes/schema.js';
import { CHART, removeScratch, render, ROOT, valuesFile } from './helm.js';

afterAll(() => removeScratch());

const catalog = loadCatalog(ROOT).functions;
const chartValues = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** The values `up` writes for a target, from the same function deploy-steps.ts calls. */
function targetValues(images: Pick<ValuesInput, 'registry' | 'pullPolicy'>, functions = catalog): Record<string, unknown> {
  return helmValues({ ...images, controlPlaneImage: controlPlaneImage(ROOT), functions, admissionEnabled: true });
}

const VALUE_SETS: [string, string[]][] = [
  ['default values', []],
  // src/targets/multipass/up-steps.ts: the in-VM registry, pulled Always.
  [
    'multipass target (LOCAL_REGISTRY localhost:5000, pullPolicy Always, 8 functions)',
    ['-f', valuesFile(targetValues({ registry: 'localhost:5000', pullPolicy: 'Always' }))],
  ],
  // src/targets/kubeconfig/up-steps.ts: NANOFAAS_REGISTRY with a path, or prebuilt images by their own names.
  [
    'kubeconfig target (NANOFAAS_REGISTRY registry.example:5000/team, IfNotPresent)',
    ['-f', valuesFile(targetValues({ registry: 'registry.example:5000/team', pullPolicy: 'IfNotPresent' }))],
  ],
  [
    'kubeconfig target, prebuilt images (no registry)',
    ['-f', valuesFile(targetValues({ registry: undefined, pullPolicy: 'IfNotPresent' }))],
  ],
  [
    'a target with --functions of one function',
    ['-f', valuesFile(targetValues({ registry: 'localhost:5000', pullPolicy: 'Always' }, catalog.slice(0, 1)))],
  ],
  ['auth.enabled=false', ['--set', 'auth.enabled=false']],
  ['auth.existingSecret', ['--set', 'auth.existingSecret=my-token', '--set', 'auth.secretKey=api-token']],
  [
    'ClusterIP services, no Prometheus, no registration',
    ['--set', 'controlPlane.service.type=ClusterIP', '--set', 'prometheus.enabled=false', '--set', 'registration.enabled=false'],
  ],
  ['fullnameOverride', ['--set', 'fullnameOverride=faas']],
  [
    'scheduling and resources set (nodeSelector, tolerations, affinity, replicas 0, logLevel)',
    [
      '-f',
      valuesFile({
        controlPlane: {
          replicas: 0,
          logLevel: 'debug',
          resources: { requests: { cpu: '0.25', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'faas', effect: 'NoSchedule' }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }] }],
              },
            },
          },
        },
      }),
    ],
  ],
  // NATS mode is checked here as soon as values.yaml has it (the chart has no `nats` key yet).
  ...(chartValues.nats ? ([['NATS mode', ['--set', 'nats.enabled=true']]] as [string, string[]][]) : []),
];

describe('every rendered object is schema-valid', () => {
  it.each(VALUE_SETS)('%s', async (_name, args) => {
    const objects = await render(args);
    expect(objects.length).toBeGreaterThan(0);
    expect(schemaReport(objects)).toEqual([]);
  });

  it('the default render is the 14 objects the chart test lists, each checked (none of an unknown kind)', async () => {
    const objects = await render();
    expect(objects).toHaveLength(14);
    expect(objects.map((o) => schemaErrors(o).length)).toEqual(objects.map(() => 0));
  });

  it('a broken value that helm renders happily is caught here, as the API server would catch it', async () => {
    // values.schema.json leaves affinity free-form: a node affinity without its terms renders.
    const objects = await render([
      '-f',
      valuesFile({ controlPlane: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } } } }),
    ]);
    expect(schemaReport(objects)).toEqual([
      'Deployment/nanofaas-control-plane: spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value (FieldValueRequired)',
    ]);
  });
});
