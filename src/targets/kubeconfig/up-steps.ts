import { join } from 'node:path';
import { UsageError } from '../../cli/errors.js';
import { apiToken } from '../../config/env.js';
import type { Step } from '../../pipeline/step.js';
import { apiTokenSource } from '../cluster/api-token.js';
import { deploySteps } from '../cluster/deploy-steps.js';
import type { ClusterUpInput } from '../cluster/up-input.js';
import { NAMESPACE } from '../cluster/release.js';
import { formatArgv } from '../host/host.js';
import { hostExec } from '../host/step-exec.js';
import type { UpContext } from '../target.js';
import { CONTROL_PLANE_SERVICE, PROMETHEUS_SERVICE, clusterAccess, connectCluster, connectPlan } from './access.js';
import type { KubeconfigConfig } from './config.js';
import { imageSteps } from './image-steps.js';

export interface KubeconfigUpInput extends ClusterUpInput {
  cfg: KubeconfigConfig;
  env: NodeJS.ProcessEnv;
}

/** `up` on an existing cluster, in order: check → images → Helm → verify → how to reach it. */
export function kubeconfigUpSteps(input: KubeconfigUpInput): Step<UpContext>[] {
  const { cfg } = input;
  const access = clusterAccess(cfg, input.run);
  const checks = [
    [...access.kubectl, 'version', '--client'],
    [...access.helm, 'version', '--short'],
    [...access.kubectl, 'cluster-info'],
  ];
  return [
    {
      title: `Check kubectl, helm and the cluster${cfg.context ? ` (context ${cfg.context})` : ''}`,
      hint: 'is KUBECONFIG set and the context reachable? try `kubectl config get-contexts`',
      plan: () => checks.map((c) => formatArgv(c)),
      run: async (_ctx, io) => {
        const exec = hostExec(access.host, io);
        for (const argv of checks) await exec(argv, { timeoutMs: 60_000 });
      },
    },
    ...imageSteps(input),
    ...deploySteps({
      input,
      access,
      chartDir: join(input.rootDir, 'helm', 'nanofaas'),
      valuesFile: { local: join(input.workDir, 'values.yaml'), remote: join(input.workDir, 'values.yaml') },
      images: { registry: cfg.registry, pullPolicy: 'IfNotPresent' },
      connectPlan: connectPlan(cfg, access),
      connect: () => connectCluster(cfg, input.env, access),
      apiToken: apiTokenSource(access.host, access.kubectl, () => apiToken(input.env)),
    }),
    {
      title: 'Endpoints',
      plan: () => ['print how to reach the API'],
      run: (ctx) => {
        if (!cfg.nanofaasUrl) {
          // The smoke test's port-forwards are gone; endpoints.json must not point at dead ports.
          delete ctx.endpoints;
          ctx.notes.push(
            `API:        ${formatArgv([...access.kubectl, '-n', NAMESPACE, 'port-forward', CONTROL_PLANE_SERVICE, '8080:8080', '8081:8081'])}`,
            `Prometheus: ${formatArgv([...access.kubectl, '-n', NAMESPACE, 'port-forward', PROMETHEUS_SERVICE, '9090:9090'])}`,
            `then: NANOFAAS_URL=http://127.0.0.1:8080 PROM_URL=http://127.0.0.1:9090 ${input.suggest('loadtest')}`,
          );
        }
      },
    },
  ];
}

export function requireRegistry(cfg: KubeconfigConfig, skipBuild: boolean): void {
  if (!skipBuild && !cfg.registry) {
    throw new UsageError(
      'the kubeconfig target needs a registry the cluster can pull from',
      'set NANOFAAS_REGISTRY=<registry>[/prefix] (--registry), or SKIP_BUILD=true (--no-build) to use prebuilt images',
    );
  }
}
