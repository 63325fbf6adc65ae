import { StepFailure, type Step } from '../../pipeline/step.js';
import type { Runner } from '../host/run-local.js';
import { reapOrphanedExecs } from './reap.js';

/** First step of every multipass pipeline: multipass answers, and no orphaned `multipass exec` clients linger. */
export function checkMultipassStep<Ctx>(run: Runner, vmName: string): Step<Ctx> {
  return {
    title: 'Check multipass and reap orphaned `multipass exec` processes',
    hint: 'install Multipass: https://multipass.run (macOS: brew install multipass; Linux: snap install multipass)',
    plan: () => ['multipass version', `ps -eo pid=,ppid=,args=  (SIGTERM orphaned "multipass exec ${vmName}" clients)`],
    run: async (_ctx, io) => {
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
