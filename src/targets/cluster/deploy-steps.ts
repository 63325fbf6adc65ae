import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { hostExec } from '../host/step-exec.js';
import type { UpContext } from '../target.js';
import type { ClusterAccess, Connection } from './access.js';
import { helmValues, type ValuesInput } from './helm-values.js';
import { controlPlaneImage } from './images.js';
import { helmUpgradeArgv, NAMESPACE, podsReadyArgv, rolloutArgv } from './release.js';
import { smokeStep } from './smoke-step.js';
import type { ClusterUpInput } from './up-input.js';

export interface DeployConfig {
  input: ClusterUpInput;
  access: ClusterAccess;
  /** Chart directory on the access host. */
  chartDir: string;
  /** Values written locally, then copied to `remote` on the access host (same path for LocalHost). */
  valuesFile: { local: string; remote: string };
  /** Where the cluster pulls the images from ('' / undefined: by their own names) and how often. */
  images: Pick<ValuesInput, 'registry' | 'pullPolicy'>;
  connect: () => Promise<Connection>;
  /** How `connect` reaches the cluster, for the plan. */
  connectPlan: string[];
  /** The API token the chart generated (api-token.ts), or the one the environment gives. */
  apiToken: () => Promise<string | undefined>;
}

/** Helm install/upgrade of the chart, the control plane's rollout, every pod Ready, then the smoke test. */
export function deploySteps(cfg: DeployConfig): Step<UpContext>[] {
  const { access, input } = cfg;
  const copies = access.host.copyCommandFor(cfg.valuesFile.local, cfg.valuesFile.remote);
  const needsCopy = cfg.valuesFile.local !== cfg.valuesFile.remote;
  const upgrade = helmUpgradeArgv(access, { chartDir: cfg.chartDir, valuesFile: cfg.valuesFile.remote });
  const values = () =>
    helmValues({
      ...cfg.images,
      controlPlaneImage: controlPlaneImage(input.rootDir),
      functions: input.functions,
      admissionEnabled: true,
    });
  return [
    {
      title: 'Helm upgrade --install (NodePorts 30080/30081/30090)',
      hint: `inspect with: ${formatArgv(access.host.commandFor([...access.kubectl, '-n', NAMESPACE, 'get', 'pods,events']))}`,
      plan: () => [
        `write ${cfg.valuesFile.local}`,
        ...(needsCopy ? [formatArgv(copies)] : []),
        formatArgv(access.host.commandFor(upgrade)),
      ],
      run: async (_ctx, io) => {
        mkdirSync(dirname(cfg.valuesFile.local), { recursive: true });
        writeFileSync(cfg.valuesFile.local, stringify(values()));
        io.log(`values → ${cfg.valuesFile.local}`);
        if (needsCopy) {
          io.target(formatArgv(copies));
          await access.host.copy(cfg.valuesFile.local, cfg.valuesFile.remote);
        }
        await hostExec(access.host, io)(upgrade, { timeoutMs: 420_000 });
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
      hint: `ImagePullBackOff? run \`${input.suggest('doctor')}\`: it checks the registry mirror and the images`,
      plan: () => [formatArgv(access.host.commandFor(podsReadyArgv(access)))],
      run: async (_ctx, io) => {
        await hostExec(access.host, io)(podsReadyArgv(access), { timeoutMs: 480_000 });
      },
    },
    smokeStep(cfg),
  ];
}
