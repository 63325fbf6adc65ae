import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { ApiError } from '../api-client/client.js';
import { CliError, UsageError } from './errors.js';
import { intArg, withExamples } from './examples.js';
import { formatDuration } from '../util/format.js';
import { plural } from './function-view.js';

interface InvokeFlags {
  data?: string;
  async: boolean;
  wait: boolean;
  timeout?: number;
  idempotencyKey?: string;
}

/** `--data` is inline JSON, `@file` or `-` (stdin). Absent means `null` input. */
export function parseData(value: string | undefined, readStdin: () => string = () => readFileSync(0, 'utf8')): unknown {
  if (value === undefined) return null;
  let text = value;
  let source = '--data';
  if (value === '-') {
    text = readStdin();
    source = 'stdin';
  } else if (value.startsWith('@')) {
    source = value.slice(1);
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --data file ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${source} is not valid JSON: ${(error as Error).message}`,
      `quote it for the shell, e.g. --data '{"text":"hello"}'`,
    );
  }
}

export function registerInvoke(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('invoke')
    .description('invoke a function and print its output')
    .argument('<function>', 'function name')
    .option('-d, --data <json|@file|->', 'input as JSON, @file to read it from a file, - for stdin')
    .option('--async', 'enqueue instead of waiting (prints the execution id)', false)
    .option('--wait', 'with --async: wait for the execution to finish and print it', false)
    .option('--timeout <ms>', 'sync deadline sent as X-Timeout-Ms', intArg('--timeout', 1, 900_000))
    .option('--idempotency-key <key>', 'same key within the TTL returns the same execution')
    .action(async (name: string, flags: InvokeFlags) => {
      ctx.announceTarget();
      const { out } = ctx;
      const input = parseData(flags.data);
      if (flags.wait && !flags.async) throw new UsageError('--wait only applies with --async');
      const api = await ctx.api();
      const options = {
        ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
        ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
      };
      const target = ctx.options.target;

      if (!flags.async) {
        const result = await api.invoke(name, input, options).catch((error: unknown) => unavailable(ctx, name, error));
        out.document({
          ok: true,
          target,
          function: name,
          executionId: result.executionId,
          status: result.status,
          output: result.output,
          durationMs: round(result.durationMs),
          coldStart: result.coldStart,
        });
        out.data(JSON.stringify(result.output, null, 2));
        out.status(
          out.c.dim(
            `${out.c.green('✔')} ${name} in ${formatDuration(result.durationMs)}${result.coldStart ? ' (cold start)' : ''} · execution ${result.executionId}`,
          ),
        );
        return;
      }

      const queued = await api.enqueue(name, input, options).catch((error: unknown) => unavailable(ctx, name, error));
      if (!flags.wait) {
        out.document({ ok: true, target, function: name, executionId: queued.executionId, status: queued.status });
        out.data(queued.executionId);
        out.status(out.c.dim(`queued · wait for its result with: ${ctx.suggest(`executions get ${queued.executionId} --wait`)}`));
        return;
      }
      const t0 = performance.now();
      const done = await api.waitForExecution(queued.executionId, (flags.timeout ?? 300_000) + 5_000, ctx.signal);
      const ok = done.status === 'success';
      out.document({ ok, target, function: name, ...done, durationMs: round(performance.now() - t0) });
      if (ok) {
        out.data(JSON.stringify(done.output, null, 2));
        out.status(
          out.c.dim(`${out.c.green('✔')} ${name} finished after ${plural(done.attempts, 'attempt')} · execution ${done.executionId}`),
        );
      } else {
        out.error(
          `nanofaas: ${name} ${done.status}: ${done.error ? `${done.error.error}: ${done.error.message}` : 'no details'} (execution ${done.executionId}, ${plural(done.attempts, 'attempt')})`,
        );
        ctx.exitCode = 1;
      }
    });
  withExamples(cmd, [
    [`nanofaas invoke word-stats-python --data '{"text":"the quick brown fox","topN":2}'`],
    ['nanofaas invoke json-transform-node --data @payload.json'],
    [`echo '"hello hello"' | nanofaas invoke word-stats-exec --data -`],
    [`nanofaas invoke word-stats-java --async --wait --data '{"text":"a b a"}'`],
  ]);
}

/** A function that cannot start: say so, and where its log is, instead of the bare API error. */
function unavailable(ctx: CliContext, name: string, error: unknown): never {
  if (error instanceof ApiError && error.code === 'FUNCTION_UNAVAILABLE') {
    throw new CliError(error.message, {
      code: error.code,
      hint: `\`${ctx.suggest(`functions get ${name}`)}\` shows its last log lines; fix it, then re-register it with --replace`,
    });
  }
  throw error;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
