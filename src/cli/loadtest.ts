// Placeholder: the loadtest engineer replaces this file (same exported signature).
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export function registerLoadtest(program: Command, ctx: CliContext): void {
  program
    .command('loadtest')
    .description('load-test the registered functions (not part of this build yet)')
    .action(() => {
      ctx.announceTarget();
      throw new CliError('loadtest is not available in this build yet');
    });
}
