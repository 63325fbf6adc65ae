// Placeholder: the loadtest engineer replaces this file (same exported signature).
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('summarise load-test results (not part of this build yet)')
    .action(() => {
      ctx.announceTarget();
      throw new CliError('report is not available in this build yet');
    });
}
