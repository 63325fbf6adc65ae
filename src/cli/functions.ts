import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { FunctionSpecInput, FunctionView } from '@nanofaas/control-plane/contracts';
import { ApiError } from '../api-client/client.js';
import { formatDuration } from '../util/format.js';
import type { CliContext } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { intArg, withExamples } from './examples.js';
import { describeFunction, logTailLines } from './function-view.js';
import { registerDescribe } from './functions-describe.js';
import { registerScale } from './functions-scale.js';

interface RegisterFlags {
  file: string;
  replace: boolean;
  wait: boolean;
  waitTimeout: number;
}

const DEFAULT_WAIT_MS = 120_000;

export function registerFunctions(program: Command, ctx: CliContext): void {
  const fns = program.command('functions').alias('fn').description('list, inspect, register, scale and delete functions');
  withExamples(fns, [
    ['nanofaas functions list'],
    ['nanofaas functions get word-stats-python --json'],
    ['nanofaas functions describe word-stats-python'],
    ['nanofaas functions scale word-stats-python 2'],
    ['nanofaas functions register -f my-function.json --replace'],
    ['nanofaas functions delete my-function'],
  ]);

  withExamples(
    fns
      .command('list')
      .alias('ls')
      .description('list registered functions')
      .action(async () => {
        ctx.announceTarget();
        const api = await ctx.api();
        const specs = await api.listFunctions();
        ctx.out.document({ ok: true, target: ctx.options.target, functions: specs });
        if (specs.length === 0) {
          ctx.out.status(`no functions registered (\`${ctx.suggest('up')}\` registers the demo functions)`);
          return;
        }
        ctx.out.table([
          ['NAME', 'RUNTIME', 'MODE', 'CONCURRENCY', 'QUEUE', 'TIMEOUT'],
          ...specs.map((s) => [
            s.name,
            s.runtime ?? s.image ?? '-',
            s.runtimeMode,
            String(s.concurrency),
            String(s.queueSize),
            `${s.timeoutMs}ms`,
          ]),
        ]);
      }),
    [['nanofaas functions list'], ['nanofaas functions list --json | jq ".functions[].name"']],
  );

  withExamples(
    fns
      .command('get')
      .description('show one function: spec and live status')
      .argument('<name>', 'function name')
      .action(async (name: string) => {
        ctx.announceTarget();
        const view = await (await ctx.api()).getFunction(name);
        ctx.out.document({ ok: true, target: ctx.options.target, function: view });
        ctx.out.data(describeFunction(view, ctx.out.c).join('\n'));
      }),
    [['nanofaas functions get word-stats-python'], ['nanofaas functions get word-stats-python --json']],
  );

  withExamples(
    fns
      .command('register')
      .description('register a function from a JSON spec file and wait until it has started')
      .requiredOption('-f, --file <spec.json>', 'FunctionSpec JSON (see GET /v1/openapi.json)')
      .option('--replace', 'delete and re-register when the name exists', false)
      .option('--no-wait', 'return once it is registered, without waiting for it to start')
      .option('--wait-timeout <ms>', 'how long to wait for it to start', intArg('--wait-timeout', 1_000, 3_600_000), DEFAULT_WAIT_MS)
      .action(async (flags: RegisterFlags) => {
        ctx.announceTarget();
        const spec = readSpec(flags.file);
        const api = await ctx.api();
        const again = ctx.suggest(`functions register -f ${flags.file} --replace`);
        let replaced = false;
        let registered: Awaited<ReturnType<typeof api.registerFunction>>;
        try {
          registered = await api.registerFunction(spec);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 409)) throw error;
          if (!flags.replace) {
            throw new CliError(`function ${spec.name} already exists`, { code: 'FUNCTION_EXISTS', hint: `to replace it: ${again}` });
          }
          await api.deleteFunction(spec.name);
          registered = await api.registerFunction(spec);
          replaced = true;
        }
        const { c } = ctx.out;
        const done = replaced ? 're-registered' : 'registered';
        const target = ctx.options.target;
        // Nothing to start (scaled to zero), or the user asked not to wait.
        if (!flags.wait || registered.replicas === 0) {
          ctx.out.document({ ok: true, target, replaced, function: registered });
          ctx.out.status(
            `${c.green('✔')} ${done} ${registered.name}${flags.wait ? '' : c.dim(` (not waiting for it to start: \`${ctx.suggest(`functions get ${registered.name}`)}\` shows its state)`)}`,
          );
          return;
        }
        const t0 = performance.now();
        const view = await api.waitForFunction(registered.name, flags.waitTimeout, ctx.signal);
        const state = view.status?.state;
        if (state === 'READY' || state === 'DEGRADED') {
          ctx.out.document({ ok: true, target, replaced, function: view });
          ctx.out.status(
            `${c.green('✔')} ${done} ${view.name} · ${state === 'READY' ? 'ready' : 'partly ready'} after ${formatDuration(performance.now() - t0)}`,
          );
          return;
        }
        notStarted(ctx, view, {
          replaced,
          waitedMs: flags.waitTimeout,
          hint:
            state === 'FAILED'
              ? `fix it, then: ${again}`
              : `see \`${ctx.suggest(`functions get ${view.name}`)}\`, or wait longer with --wait-timeout`,
        });
      }),
    [
      ['nanofaas functions register -f fn.json', 'register it and wait until it has started'],
      ['nanofaas functions register -f fn.json --replace', 'replace a function of the same name'],
      ['nanofaas functions register -f fn.json --no-wait', 'return as soon as it is registered'],
    ],
  );

  withExamples(
    fns
      .command('delete')
      .alias('rm')
      .description('delete a function (its workload is stopped)')
      .argument('<name>', 'function name')
      .action(async (name: string) => {
        ctx.announceTarget();
        await (await ctx.api()).deleteFunction(name);
        ctx.out.document({ ok: true, target: ctx.options.target, deleted: name });
        ctx.out.status(`${ctx.out.c.green('✔')} deleted ${name}`);
      }),
    [['nanofaas functions delete word-stats-python']],
  );

  registerScale(fns, ctx);
  registerDescribe(fns, ctx);
}

/** Registered, but it did not start: one line saying why, its last log lines, the fix; exit 1. */
function notStarted(ctx: CliContext, view: FunctionView, info: { replaced: boolean; waitedMs: number; hint: string }): void {
  const status = view.status;
  const message =
    status?.state === 'FAILED'
      ? `function ${view.name} is registered but cannot start: ${status.message ?? 'its workload failed'}`
      : `function ${view.name} is registered but not ready after ${formatDuration(info.waitedMs)} (${status?.state ?? 'UNKNOWN'}${status?.message ? `: ${status.message}` : ''})`;
  const code = status?.state === 'FAILED' ? 'FUNCTION_UNAVAILABLE' : 'NOT_READY';
  ctx.out.document({
    ok: false,
    target: ctx.options.target,
    replaced: info.replaced,
    function: view,
    error: { code, message, hint: info.hint },
  });
  ctx.out.error(`nanofaas: ${message}`);
  for (const line of logTailLines(view, ctx.out.c)) ctx.out.error(line);
  ctx.out.error(`  hint: ${info.hint}`);
  ctx.exitCode = EXIT.failed;
}

function readSpec(file: string): FunctionSpecInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || typeof (spec as { name?: unknown }).name !== 'string') {
    throw new UsageError(`${file} must be a JSON object with at least a "name"`);
  }
  // The API validates the rest and answers with a precise VALIDATION_ERROR.
  return spec as FunctionSpecInput;
}
