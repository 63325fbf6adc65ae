import type { Command } from 'commander';
import type { ExecutionStatus } from '@nanofaas/control-plane/contracts';
import { ApiError } from '../api-client/client.js';
import { formatDuration } from '../util/format.js';
import type { CliContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { intArg, withExamples } from './examples.js';
import { plural } from './function-view.js';

const DEFAULT_WAIT_MS = 300_000;
const ENDED = new Set(['success', 'error', 'timeout']);

export function registerExecutions(program: Command, ctx: CliContext): void {
  const executions = program.command('executions').description('look up executions, e.g. the id `nanofaas invoke --async` printed');
  withExamples(executions, [['nanofaas executions get <id>'], ['nanofaas executions get <id> --wait']]);

  withExamples(
    executions
      .command('get')
      .description('show an execution: its state, attempts, and its output or error')
      .argument('<id>', 'execution id')
      .option('--wait [ms]', `wait until it has ended (up to ${DEFAULT_WAIT_MS} ms, or the ms given)`, intArg('--wait', 1, 3_600_000))
      .action(async (id: string, flags: { wait?: true | number }) => {
        ctx.announceTarget();
        const api = await ctx.api();
        let execution: ExecutionStatus;
        try {
          if (flags.wait === undefined) execution = await api.execution(id);
          else execution = await api.waitForExecution(id, flags.wait === true ? DEFAULT_WAIT_MS : flags.wait, ctx.signal);
        } catch (error) {
          if (error instanceof ApiError && error.code === 'WAIT_TIMEOUT') {
            throw new CliError(error.message, { code: 'WAIT_TIMEOUT', hint: `wait again: ${ctx.suggest(`executions get ${id} --wait`)}` });
          }
          if (error instanceof ApiError && error.status === 404) {
            throw new CliError(`${error.message}; executions are kept for a while after they end (NANOFAAS_EXECUTION_TTL_MS)`, {
              code: error.code,
            });
          }
          throw error;
        }
        report(ctx, execution);
      }),
    [
      ['nanofaas executions get 8f880cde-dc6a-48db-a7f8-4b72251f49c6', 'its state now'],
      ['nanofaas executions get 8f880cde-dc6a-48db-a7f8-4b72251f49c6 --wait', 'wait until it has ended, then print its output'],
      ['nanofaas executions get 8f880cde-dc6a-48db-a7f8-4b72251f49c6 --wait 10000 --json'],
    ],
  );
}

/** Output on stdout, one status line on stderr; an execution that failed exits 1. */
function report(ctx: CliContext, execution: ExecutionStatus): void {
  const { out } = ctx;
  const { c } = out;
  const ended = ENDED.has(execution.status);
  const ok = execution.status === 'success' || !ended;
  out.document({ ok, target: ctx.options.target, ...execution });
  const took =
    execution.finishedAt && execution.startedAt
      ? ` in ${formatDuration(Date.parse(execution.finishedAt) - Date.parse(execution.startedAt))}`
      : '';
  const about = `${execution.functionName} · execution ${execution.executionId}`;
  if (execution.status === 'success') {
    out.data(JSON.stringify(execution.output ?? null, null, 2));
    out.status(c.dim(`${c.green('✔')} ${about} · success${took} after ${plural(execution.attempts, 'attempt')}`));
    return;
  }
  if (!ended) {
    const sofar = execution.attempts > 0 ? ` (${plural(execution.attempts, 'attempt')} so far)` : '';
    out.data(execution.status);
    out.status(
      c.dim(
        `${about} is ${execution.status}${sofar} · wait for its result with: ${ctx.suggest(`executions get ${execution.executionId} --wait`)}`,
      ),
    );
    return;
  }
  const why = execution.error ? `${execution.error.error}: ${execution.error.message}` : 'no details';
  out.error(`nanofaas: ${about} ended as ${execution.status}${took} after ${plural(execution.attempts, 'attempt')}: ${why}`);
  ctx.exitCode = EXIT.failed;
}
