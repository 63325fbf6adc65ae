import { StepFailure, type Step } from '../../pipeline/step.js';
import type { UpContext } from '../target.js';
import { checkRuntime, NODE_MIN, nodeVersionOk } from './toolchains.js';
import type { LocalUp } from './up-state.js';

/** Node.js new enough, and each selected runtime's toolchain; a function whose toolchain is missing is skipped. */
export function preflightStep(up: LocalUp): Step<UpContext> {
  const { rootDir, env } = up.target;
  return {
    title: 'Preflight: node version and runtime toolchains',
    hint: 'install what the message names, or limit `up` with --runtimes',
    // What run() selects, so the later steps' plans name the functions; the toolchain checks run programs, so a plan only names them.
    plan(ctx) {
      up.select();
      for (const fn of up.runnable) ctx.functions.push({ name: fn.name, runtime: fn.runtime });
      return [
        `check Node.js >= ${NODE_MIN.join('.')} and the toolchains of: ${[...new Set(up.selected.map((f) => f.runtime))].join(', ') || '(no functions selected)'}`,
      ];
    },
    async run(ctx, io) {
      if (!nodeVersionOk())
        throw new StepFailure(`Node.js ${process.versions.node} is too old; nanofaas needs ${NODE_MIN.join('.')} or newer`, {
          hint: 'install Node.js 20 LTS or newer',
        });
      up.select();
      const runtimes = [...new Set(up.selected.map((f) => f.runtime))];
      const checks = await Promise.all(runtimes.map((rt) => checkRuntime(rootDir, rt, env)));
      for (const check of checks) {
        io.log(check.ok ? `${check.runtime}: ok (${check.found.join(', ')})` : `${check.runtime}: ${check.reason}`);
        if (!check.ok)
          for (const fn of up.selected.filter((f) => f.runtime === check.runtime)) up.skip(ctx, fn, check.reason ?? 'unavailable');
      }
      for (const fn of up.runnable) ctx.functions.push({ name: fn.name, runtime: fn.runtime });
    },
  };
}
