/** `functions scale <name> <n>`: set the desired replicas, then wait until they are all ready. */
import type { Command } from 'commander';
import type { FunctionView } from '@nanofaas/control-plane/contracts';
import { formatDuration } from '../util/format.js';
import type { CliContext } from './context.js';
import { EXIT, UsageError } from './errors.js';
import { intArg, withExamples } from './examples.js';
import { logTailLines } from './function-view.js';
import { getFunctionOrHint } from './functions-lookup.js';

/** The API's own bound (ReplicasRequest). */
const MAX_REPLICAS = 100;
const DEFAULT_WAIT_MS = 120_000;

interface ScaleFlags {
  wait: boolean;
  waitTimeout: number;
}

function replicaCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > MAX_REPLICAS) {
    throw new UsageError(`replicas must be an integer between 0 and ${MAX_REPLICAS}, got '${value}'`);
  }
  return n;
}

export function registerScale(fns: Command, ctx: CliContext): void {
  withExamples(
    fns
      .command('scale')
      .description('set how many replicas a function runs, and wait until they are ready')
      .argument('<name>', 'function name')
      .argument('<replicas>', `desired replicas, 0 to ${MAX_REPLICAS} (0 stops every replica)`)
      .option('--no-wait', 'return once the new count is set, without waiting for the replicas')
      .option('--wait-timeout <ms>', 'how long to wait for the replicas', intArg('--wait-timeout', 1_000, 3_600_000), DEFAULT_WAIT_MS)
      .action(async (name: string, rawReplicas: string, flags: ScaleFlags) => {
        const replicas = replicaCount(rawReplicas);
        ctx.announceTarget();
        const api = await ctx.api();
        const before = await getFunctionOrHint(ctx, api, name);
        const from = before.replicas;
        await api.setReplicas(name, replicas);
        const { c } = ctx.out;
        const target = ctx.options.target;
        const change = `${name}: ${from} → ${replicas} ${replicas === 1 ? 'replica' : 'replicas'}`;
        if (!flags.wait || replicas === 0) {
          const view = await api.getFunction(name);
          ctx.out.document({ ok: true, target, name, from, to: replicas, function: view });
          ctx.out.status(
            `${c.green('✔')} ${change}${flags.wait ? '' : c.dim(` (not waiting: \`${ctx.suggest(`functions describe ${name}`)}\` shows its replicas)`)}`,
          );
          return;
        }
        const t0 = performance.now();
        const view = await api.waitForReplicas(name, flags.waitTimeout, ctx.signal);
        const status = view.status;
        if (status?.state === 'READY') {
          ctx.out.document({ ok: true, target, name, from, to: replicas, function: view });
          ctx.out.status(`${c.green('✔')} ${change} · ready after ${formatDuration(performance.now() - t0)}`);
          return;
        }
        notSettled(ctx, view, { from, to: replicas, waitedMs: flags.waitTimeout });
      }),
    [
      ['nanofaas functions scale word-stats-python 3', 'run 3 replicas and wait until all are ready'],
      ['nanofaas functions scale word-stats-python 0', 'stop every replica (the function stays registered)'],
      ['nanofaas functions scale word-stats-python 2 --no-wait --json', 'set the count and return at once'],
    ],
  ).addHelpText(
    'after',
    '\n--json: {ok, target, name, from, to, function (spec + status)}; not ready in time: exit 1 with {ok: false, error}',
  );
}

/** The count is set, but not every replica came up: say how far it got and why; exit 1. */
function notSettled(ctx: CliContext, view: FunctionView, info: { from: number; to: number; waitedMs: number }): void {
  const status = view.status;
  const failed = status?.state === 'FAILED';
  const message = failed
    ? `${view.name} is scaled to ${info.to} but its replicas cannot start: ${status?.message ?? 'its workload failed'}`
    : `${view.name} is scaled to ${info.to} but ${status?.readyReplicas ?? 0} of ${info.to} ready after ${formatDuration(info.waitedMs)} (${status?.state ?? 'UNKNOWN'}${status?.message ? `: ${status.message}` : ''})`;
  const hint = `see \`${ctx.suggest(`functions describe ${view.name}`)}\`${failed ? '' : ', or wait longer with --wait-timeout'}`;
  ctx.out.document({
    ok: false,
    target: ctx.options.target,
    name: view.name,
    from: info.from,
    to: info.to,
    function: view,
    error: { code: failed ? 'FUNCTION_UNAVAILABLE' : 'NOT_READY', message, hint },
  });
  ctx.out.error(`nanofaas: ${message}`);
  for (const line of logTailLines(view, ctx.out.c)) ctx.out.error(line);
  ctx.out.error(`  hint: ${hint}`);
  ctx.exitCode = EXIT.failed;
}
