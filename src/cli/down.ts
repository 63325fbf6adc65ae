import type { Command } from 'commander';
import type { DownContext } from '../targets/target.js';
import { formatStepError } from '../pipeline/step.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { EXIT } from './errors.js';
import { withExamples } from './examples.js';

export function registerDown(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('down')
    .description('stop everything `up` started (safe to run twice)')
    .option('--dry-run', 'print what would be stopped', false)
    .option('--remove-registry', 'docker target: also stop the local registry `up` started (kept otherwise)', false)
    .action(async (flags: { dryRun: boolean; removeRegistry: boolean }) => {
      ctx.announceTarget();
      const target = await ctx.target();
      const down: DownContext = { stopped: [], notes: [] };
      // Parsed like the targets parse it: KEEP_VM=1/yes keeps the VM too, and a typo is a usage error, not a delete.
      const keep = envValue(ctx.env, 'KEEP_VM');
      const result = await ctx.pipeline(
        target.downSteps({ keepInfrastructure: keep, ...(flags.removeRegistry ? { removeRegistry: true } : {}) }),
        down,
        { dryRun: flags.dryRun },
      );
      const { out } = ctx;
      out.document({
        ok: result.ok,
        target: target.name,
        stopped: down.stopped,
        notes: down.notes,
        steps: result.steps.map((s) => ({ ...s, durationMs: Math.round(s.durationMs) })),
        ...(result.error ? { error: result.error.toJSON() } : {}),
        ...(result.interrupted ? { interrupted: true } : {}),
      });
      if (!result.ok) {
        if (result.error) for (const line of formatStepError(result.error)) out.error(line);
        ctx.exitCode = EXIT.failed;
        return;
      }
      if (flags.dryRun) return;
      out.data(down.stopped.length > 0 ? `stopped: ${down.stopped.join(', ')}` : 'nothing was running');
      for (const note of down.notes) out.data(out.c.dim(note));
    });
  withExamples(cmd, [['nanofaas down'], ['nanofaas down --json']]);
}
