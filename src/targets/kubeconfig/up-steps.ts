import { join } from 'node:path';
import { UsageError } from '../../cli/errors.js';
import type { Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import type { Runner } from '../host/run-local.js';
import { hostExec } from '../host/step-exec.js';
import type { UpContext } from '../target.js';
import type { Catalog, CatalogFunction } from '../../util/catalog.js';
import { apiToken } from '../../config/env.js';
import { apiTokenSource } from './api-token.js';
import { deploySteps, type ClusterAccess, type Connection } from './cluster.js';
import type { KubeconfigConfig } from './config.js';
import { NAMESPACE, RELEASE } from './env.js';
import { helmValues } from './helm-values.js';
import { assertDockerfiles, controlPlaneImage, dockerBuildArgv, imageBuilds, inRegistry, placeImage, type ImageBuild } from './images.js';
import { portForward } from './port-forward.js';

export interface KubeconfigUpInput {
  cfg: KubeconfigConfig;
  rootDir: string;
  workDir: string;
  functions: readonly CatalogFunction[];
  catalog: Catalog;
  skipBuild: boolean;
  run: Runner;
  env: NodeJS.ProcessEnv;
  /** TargetEnv.suggest: hints keep the user's --target/--state-dir. */
  suggest: (command: string) => string;
}

export function clusterAccess(cfg: KubeconfigConfig, run: Runner): ClusterAccess {
  return {
    host: new LocalHost(run),
    kubectl: ['kubectl', ...(cfg.context ? ['--context', cfg.context] : [])],
    helm: ['helm', ...(cfg.context ? ['--kube-context', cfg.context] : [])],
  };
}

export const CONTROL_PLANE_SERVICE = `svc/${RELEASE}-control-plane`;
export const PROMETHEUS_SERVICE = `svc/${RELEASE}-prometheus`;

/**
 * Smoke tests reach the cluster through `kubectl port-forward` (works on any cluster, no node
 * address or firewall needed) unless NANOFAAS_URL names a reachable API (e.g. a NodePort).
 */
export async function connectCluster(input: Pick<KubeconfigUpInput, 'cfg' | 'env'>, access: ClusterAccess): Promise<Connection> {
  const { cfg } = input;
  if (cfg.nanofaasUrl) {
    return {
      endpoints: {
        apiUrl: cfg.nanofaasUrl,
        managementUrl: cfg.nanofaasUrl.replace(/:30080$/, ':30081'),
        ...(cfg.promUrl ? { prometheusUrl: cfg.promUrl } : {}),
      },
      close: async () => {},
    };
  }
  const cp = await portForward(access.kubectl, NAMESPACE, CONTROL_PLANE_SERVICE, [8080, 8081], input.env);
  let prom: Awaited<ReturnType<typeof portForward>> | undefined;
  try {
    prom = cfg.promUrl ? undefined : await portForward(access.kubectl, NAMESPACE, PROMETHEUS_SERVICE, [9090], input.env);
  } catch (error) {
    await cp.close();
    throw error;
  }
  return {
    endpoints: {
      apiUrl: `http://127.0.0.1:${cp.localPorts[0]}`,
      managementUrl: `http://127.0.0.1:${cp.localPorts[1]}`,
      prometheusUrl: cfg.promUrl ?? `http://127.0.0.1:${prom?.localPorts[0]}`,
    },
    close: async () => {
      await Promise.all([cp.close(), prom?.close()]);
    },
  };
}

export function kubeconfigUpSteps(input: KubeconfigUpInput): Step<UpContext>[] {
  const { cfg, run } = input;
  const access = clusterAccess(cfg, run);
  const local = access.host;
  const registry = cfg.registry;
  const builds = imageBuilds(input.rootDir, input.functions);
  const tags = registry ? builds.map((b) => inRegistry(registry, b.image)) : [];
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
        const exec = hostExec(local, io);
        for (const argv of checks) await exec(argv, { timeoutMs: 60_000 });
      },
    },
    ...(input.skipBuild
      ? [prebuiltImagesStep(builds, registry)]
      : [
          {
            title: `Build ${builds.length} images for ${registry}`,
            plan: () => builds.map((b, i) => formatArgv(dockerBuildArgv(b, tags[i]!, input.rootDir))),
            run: async (_ctx, io) => {
              assertDockerfiles(input.rootDir, builds);
              const exec = hostExec(local, io);
              for (const [i, b] of builds.entries())
                await exec(dockerBuildArgv(b, tags[i]!, input.rootDir), { hint: `Dockerfile: ${b.dockerfile}` });
            },
          } satisfies Step<UpContext>,
          {
            title: `Push images to ${registry}`,
            plan: () => tags.map((t) => formatArgv(['docker', 'push', t])),
            run: async (_ctx, io) => {
              const exec = hostExec(local, io);
              for (const t of tags)
                await exec(['docker', 'push', t], {
                  hint: `docker login ${registry?.split('/')[0]} first if the registry needs credentials`,
                });
            },
          } satisfies Step<UpContext>,
        ]),
    ...deploySteps({
      access,
      chartDir: join(input.rootDir, 'helm', 'nanofaas'),
      valuesFile: { local: join(input.workDir, 'values.yaml'), remote: join(input.workDir, 'values.yaml') },
      values: () =>
        helmValues({
          registry,
          controlPlaneImage: controlPlaneImage(input.rootDir),
          functions: input.functions,
          admissionEnabled: true,
          pullPolicy: 'IfNotPresent',
        }),
      functions: input.functions,
      catalog: input.catalog,
      connectPlan: cfg.nanofaasUrl
        ? [`API ${cfg.nanofaasUrl} (NANOFAAS_URL)`]
        : [
            formatArgv([
              ...access.kubectl,
              '-n',
              NAMESPACE,
              'port-forward',
              '--address',
              '127.0.0.1',
              CONTROL_PLANE_SERVICE,
              ':8080',
              ':8081',
            ]),
            ...(cfg.promUrl
              ? []
              : [formatArgv([...access.kubectl, '-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', PROMETHEUS_SERVICE, ':9090'])]),
          ],
      connect: () => connectCluster(input, access),
      apiToken: apiTokenSource(local, access.kubectl, () => apiToken(input.env)),
      suggest: input.suggest,
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

/**
 * --no-build / SKIP_BUILD: nothing is built or pushed; the plan names the images the cluster will
 * pull, from the registry when one is given, else by their own names.
 */
function prebuiltImagesStep(builds: readonly ImageBuild[], registry: string | undefined): Step<UpContext> {
  const refs = builds.map((b) => placeImage(registry, b.image).ref);
  return {
    title: `Use prebuilt images ${registry ? `from ${registry}` : 'by their own names'} (--no-build: no build, no push)`,
    plan: () => refs.map((ref) => `the cluster pulls ${ref}`),
    run: (_ctx, io) => {
      for (const ref of refs) io.log(`the cluster pulls ${ref}`);
    },
  };
}

export function requireRegistry(cfg: KubeconfigConfig, skipBuild: boolean): void {
  if (!skipBuild && !cfg.registry) {
    throw new UsageError(
      'the kubeconfig target needs a registry the cluster can pull from',
      'set NANOFAAS_REGISTRY=<registry>[/prefix] (--registry), or SKIP_BUILD=true (--no-build) to use prebuilt images',
    );
  }
}
