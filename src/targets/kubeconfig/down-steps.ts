import type { Step } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import type { ClusterAccess } from '../cluster/access.js';
import { helmUninstallArgv, NAMESPACE, RELEASE } from '../cluster/release.js';
import { stopGrafanaStep } from '../grafana-step.js';
import { formatArgv } from '../host/host.js';
import { hostExec } from '../host/step-exec.js';
import type { DownContext } from '../target.js';

export interface KubeconfigDownInput {
  access: ClusterAccess;
  rootDir: string;
  env: NodeJS.ProcessEnv;
  /** Where `loadtest` records a Grafana stack it started. */
  state: StateDir;
  /** KEEP_VM=true: the namespace stays (only the release goes). */
  keepNamespace: boolean;
}

/** `down` on an existing cluster: Grafana (if `loadtest` started it), the Helm release, then its namespace. */
export function kubeconfigDownSteps(input: KubeconfigDownInput): Step<DownContext>[] {
  const { access } = input;
  const uninstall = helmUninstallArgv(access);
  const deleteNs = [...access.kubectl, 'delete', 'namespace', NAMESPACE, '--ignore-not-found'];
  return [
    stopGrafanaStep(input.state, input.rootDir, input.env),
    {
      title: `Uninstall Helm release ${RELEASE}`,
      plan: () => [formatArgv(uninstall)],
      run: async (ctx, io) => {
        await hostExec(access.host, io)(uninstall, { timeoutMs: 300_000 });
        ctx.stopped.push(`helm release ${RELEASE}`);
      },
    },
    {
      title: `Delete namespace ${NAMESPACE}`,
      skip: () => (input.keepNamespace ? 'kept (KEEP_VM=true)' : false),
      plan: () => [formatArgv(deleteNs)],
      run: async (ctx, io) => {
        await hostExec(access.host, io)(deleteNs, { timeoutMs: 300_000 });
        ctx.stopped.push(`namespace ${NAMESPACE}`);
      },
    },
  ];
}
