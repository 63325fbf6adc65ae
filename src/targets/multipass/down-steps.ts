import { rmSync } from 'node:fs';
import type { Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import type { Runner } from '../host/run-local.js';
import { hostExec } from '../host/step-exec.js';
import { helmUninstallArgv, RELEASE } from '../cluster/release.js';
import { stopGrafanaStep } from '../grafana-step.js';
import type { StateDir } from '../../state/state-dir.js';
import type { DownContext } from '../target.js';
import type { MultipassConfig } from './config.js';
import { MultipassHost } from './multipass-host.js';
import { vmAccess } from './kit.js';
import { infoArgv, vmInfo } from './vm.js';
import { checkMultipassStep } from './check-step.js';

export interface MultipassDownInput {
  cfg: MultipassConfig;
  rootDir: string;
  workDir: string;
  keepVm: boolean;
  run: Runner;
  env: NodeJS.ProcessEnv;
  /** Where `loadtest` records a Grafana stack it started. */
  state: StateDir;
}

/**
 * `down` is the explicit delete: it removes and purges the VM. KEEP_VM=true keeps the VM (and its
 * image cache) and only uninstalls the Helm release. Grafana, started by `loadtest`, is stopped.
 */
export function multipassDownSteps(input: MultipassDownInput): Step<DownContext>[] {
  const { cfg, run } = input;
  const local = new LocalHost(run);
  const vm = new MultipassHost(cfg.vmName, run);
  const uninstall = helmUninstallArgv(vmAccess(vm));
  return [
    checkMultipassStep<DownContext>(run, cfg.vmName),
    stopGrafanaStep(input.state, input.rootDir, input.env),
    input.keepVm
      ? {
          title: `Uninstall nanofaas from VM ${cfg.vmName} (KEEP_VM=true keeps the VM)`,
          skip: async (_ctx, { dryRun }) => {
            if (dryRun) return false;
            const info = await vmInfo(run, cfg.vmName);
            return info.state === 'Running' ? false : `VM is ${info.state}`;
          },
          plan: () => [formatArgv(vm.commandFor(uninstall))],
          run: async (ctx, io) => {
            await hostExec(vm, io)(uninstall, { timeoutMs: 300_000 });
            ctx.stopped.push(`helm release ${RELEASE}`);
            ctx.notes.push(`VM ${cfg.vmName} kept (KEEP_VM=true); delete it with: multipass delete ${cfg.vmName} && multipass purge`);
          },
        }
      : {
          title: `Delete and purge VM ${cfg.vmName}`,
          skip: async (_ctx, { dryRun }) => {
            if (dryRun) return false;
            const info = await vmInfo(run, cfg.vmName);
            return info.state === 'absent' ? 'no such VM' : false;
          },
          plan: () => [formatArgv(infoArgv(cfg.vmName)), `multipass delete ${cfg.vmName}`, 'multipass purge'],
          run: async (ctx, io) => {
            const exec = hostExec(local, io);
            await exec(['multipass', 'delete', cfg.vmName], { timeoutMs: 300_000 });
            await exec(['multipass', 'purge'], { timeoutMs: 300_000 });
            rmSync(input.workDir, { recursive: true, force: true });
            ctx.stopped.push(`VM ${cfg.vmName}`);
          },
        },
  ];
}
