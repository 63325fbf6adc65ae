import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { StepFailure, type Step } from '../../pipeline/step.js';
import type { Host } from '../host/host.js';
import { formatArgv } from '../host/host.js';
import { hostExec } from '../host/step-exec.js';
import type { Endpoints, UpContext } from '../target.js';
import { catalogFunctionsToRemove, type Catalog, type CatalogFunction } from '../../util/catalog.js';
import { readTokenArgv } from './api-token.js';
import { NAMESPACE, RELEASE } from './env.js';
import { deleteRegisteredFunction, prometheusAnswers, registeredFunctions, smokeInvoke } from './smoke.js';

/** How to reach a cluster: the machine kubectl/helm run on and their argv prefixes. */
export interface ClusterAccess {
  host: Host;
  kubectl: readonly string[];
  helm: readonly string[];
}

/** Live URLs of a deployment; `close` ends whatever made them reachable (a port-forward). */
export interface Connection {
  endpoints: Endpoints;
  close(): Promise<void>;
}

export interface DeployConfig {
  access: ClusterAccess;
  /** Chart directory on the access host. */
  chartDir: string;
  /** Values written locally, then copied to `remote` on the access host (same path for LocalHost). */
  valuesFile: { local: string; remote: string };
  values: () => Record<string, unknown>;
  functions: readonly CatalogFunction[];
  /** The whole catalog: its functions registered but not in `functions` are removed. */
  catalog: Catalog;
  connect: () => Promise<Connection>;
  /** How `connect` reaches the cluster, for the plan. */
  connectPlan: string[];
  /** The API token the chart generated (api-token.ts), or the one the environment gives. */
  apiToken: () => Promise<string | undefined>;
  /** A `nanofaas …` command line for hints, keeping the user's --target/--state-dir (TargetEnv.suggest). */
  suggest: (command: string) => string;
}

export const CONTROL_PLANE_DEPLOYMENT = `${RELEASE}-control-plane`;
const HELM_TIMEOUT = '5m';

export function helmUpgradeArgv(cfg: Pick<DeployConfig, 'access' | 'chartDir' | 'valuesFile'>): string[] {
  return [
    ...cfg.access.helm,
    'upgrade',
    '--install',
    RELEASE,
    cfg.chartDir,
    '--namespace',
    NAMESPACE,
    '--create-namespace',
    '-f',
    cfg.valuesFile.remote,
    '--wait',
    '--timeout',
    HELM_TIMEOUT,
  ];
}

export function rolloutArgv(access: ClusterAccess): string[] {
  return [...access.kubectl, '-n', NAMESPACE, 'rollout', 'status', `deployment/${CONTROL_PLANE_DEPLOYMENT}`, '--timeout=180s'];
}

/** Every pod Ready — except finished hook Jobs, which never are (this waits on events, not a poll). */
export function podsReadyArgv(access: ClusterAccess): string[] {
  return [
    ...access.kubectl,
    '-n',
    NAMESPACE,
    'wait',
    '--for=condition=Ready',
    'pod',
    '--all',
    '--field-selector=status.phase!=Succeeded',
    '--timeout=450s',
  ];
}

export function deploySteps(cfg: DeployConfig): Step<UpContext>[] {
  const { access } = cfg;
  const copies = access.host.copyCommandFor(cfg.valuesFile.local, cfg.valuesFile.remote);
  const needsCopy = cfg.valuesFile.local !== cfg.valuesFile.remote;
  return [
    {
      title: 'Helm upgrade --install (NodePorts 30080/30081/30090)',
      hint: `inspect with: ${formatArgv(access.host.commandFor([...access.kubectl, '-n', NAMESPACE, 'get', 'pods,events']))}`,
      plan: () => [
        `write ${cfg.valuesFile.local}`,
        ...(needsCopy ? [formatArgv(copies)] : []),
        formatArgv(access.host.commandFor(helmUpgradeArgv(cfg))),
      ],
      run: async (_ctx, io) => {
        mkdirSync(dirname(cfg.valuesFile.local), { recursive: true });
        writeFileSync(cfg.valuesFile.local, stringify(cfg.values()));
        io.log(`values → ${cfg.valuesFile.local}`);
        if (needsCopy) {
          io.target(formatArgv(copies));
          await access.host.copy(cfg.valuesFile.local, cfg.valuesFile.remote);
        }
        await hostExec(access.host, io)(helmUpgradeArgv(cfg), { timeoutMs: 420_000 });
      },
    },
    {
      title: 'Control-plane rollout',
      plan: () => [formatArgv(access.host.commandFor(rolloutArgv(access)))],
      run: async (_ctx, io) => {
        await hostExec(access.host, io)(rolloutArgv(access), { timeoutMs: 200_000 });
      },
    },
    {
      title: 'All pods Ready',
      hint: `ImagePullBackOff? run \`${cfg.suggest('doctor')}\`: it checks the registry mirror and the images`,
      plan: () => [formatArgv(access.host.commandFor(podsReadyArgv(access)))],
      run: async (_ctx, io) => {
        await hostExec(access.host, io)(podsReadyArgv(access), { timeoutMs: 480_000 });
      },
    },
    {
      title: `Smoke-test ${cfg.functions.length} demo functions`,
      plan: () => [
        ...cfg.connectPlan,
        `${formatArgv(access.host.commandFor(readTokenArgv(access.kubectl)))}  (the API token, unless NANOFAAS_API_TOKEN is set)`,
        'GET  <api>/v1/functions',
        'DELETE <api>/v1/functions/<name>  for each catalog function registered there but not selected by this run (functions under other names are kept)',
        ...cfg.functions.map((fn) => `POST <api>/v1/functions/${fn.name}:invoke  (${fn.workload} smoke payload, expect 200)`),
        'GET  <prometheus>/api/v1/query?query=up  (expect 200)',
      ],
      run: async (ctx, io) => {
        const token = await cfg.apiToken();
        io.log(token ? "API token: from the environment or the chart's Secret" : 'API token: none (the release has auth.enabled=false)');
        const conn = await cfg.connect();
        try {
          const { apiUrl, prometheusUrl } = conn.endpoints;
          io.target(`${apiUrl}/v1/functions`);
          const registered = new Set(await registeredFunctions(apiUrl, token));
          const missing = cfg.functions.filter((fn) => !registered.has(fn.name)).map((fn) => fn.name);
          if (missing.length > 0) {
            throw new StepFailure(`not registered: ${missing.join(', ')}`, {
              command: `GET ${apiUrl}/v1/functions`,
              hint: `the chart's registration hook registers them; see ${formatArgv(access.host.commandFor([...access.kubectl, '-n', NAMESPACE, 'logs', '-l', 'app.kubernetes.io/component=register', '--tail=50']))}`,
            });
          }
          // The chart's hook only adds; an earlier `up` with a wider selection left the others registered.
          const remove = catalogFunctionsToRemove(
            cfg.catalog,
            [...registered],
            cfg.functions.map((fn) => fn.name),
          );
          for (const name of remove) {
            await deleteRegisteredFunction(apiUrl, name, token);
            io.log(`${name}: removed (not selected by this run)`);
          }
          ctx.removed = [...(ctx.removed ?? []), ...remove];
          const outcomes = await Promise.all(cfg.functions.map((fn) => smokeInvoke(apiUrl, fn, token)));
          for (const o of outcomes) io.log(`${o.name}: ${o.smoke?.ok ? `200 in ${o.smoke.ms} ms` : (o.smoke?.message ?? o.skipped)}`);
          ctx.functions.push(...outcomes);
          const failed = outcomes.filter((o) => o.smoke && !o.smoke.ok);
          if (failed.length > 0) {
            throw new StepFailure(
              `${failed.length} of ${outcomes.length} smoke invocations failed: ${failed.map((o) => `${o.name} (${o.smoke?.message})`).join('; ')}`,
              {
                command: `POST ${apiUrl}/v1/functions/<name>:invoke`,
                hint: `run \`${cfg.suggest('doctor')}\`; exec functions need runtimeMode STDIO`,
              },
            );
          }
          if (prometheusUrl) {
            io.target(`${prometheusUrl}/api/v1/query?query=up`);
            await prometheusAnswers(prometheusUrl);
            io.log(`Prometheus answers at ${prometheusUrl}`);
          }
          ctx.endpoints = conn.endpoints;
        } finally {
          await conn.close();
        }
      },
    },
  ];
}
