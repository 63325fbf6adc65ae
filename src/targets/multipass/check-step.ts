import { StepFailure, type Step } from '../../pipeline/step.js';
import type { Runner } from '../host/run-local.js';
import type { RunMode } from '../kubeconfig/cluster.js';
import { reapOrphanedExecs } from './reap.js';

/**
 * First step of every multipass pipeline. It has no skip check, so the pipeline calls `plan` in a
 * dry run and `run` otherwise — which is how later steps learn not to query the VM in a dry run.
 */
export function checkMultipassStep<Ctx>(run: Runner, vmName: string, mode: RunMode): Step<Ctx> {
  return {
    title: 'Check multipass and reap orphaned `multipass exec` processes',
    hint: 'install Multipass: https://multipass.run (macOS: brew install multipass; Linux: snap install multipass)',
    plan: () => {
      mode.dryRun = true;
      return ['multipass version', `ps -eo pid=,ppid=,args=  (SIGTERM orphaned "multipass exec ${vmName}" clients)`];
    },
    run: async (_ctx, io) => {
      mode.dryRun = false;
      const version = await run(['multipass', 'version'], { timeoutMs: 30_000 });
      if (version.exitCode !== 0) {
        throw new StepFailure('multipass is not installed or not working', {
          command: 'multipass version',
          output: version.stderr.trim().split('\n').slice(-5),
        });
      }
      io.log(version.stdout.split('\n')[0] ?? '');
      const reaped = await reapOrphanedExecs(run, vmName, io.log);
      io.log(reaped ? `reaped ${reaped} orphaned process(es)` : 'no orphaned multipass exec processes');
    },
  };
}
