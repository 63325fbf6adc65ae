/** `functions describe <name>`: the spec, live state, each replica, the last error and its invocation counts. */
import type { FunctionView, ReplicaStatus } from '@nanofaas/control-plane/contracts';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { normalizeBaseUrl, type ApiClient } from '../api-client/client.js';
import { functionCounts, type FunctionCounts } from '../api-client/metrics.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { withExamples } from './examples.js';
import { describeFunction, plural } from './function-view.js';
import { getFunctionOrHint } from './functions-lookup.js';

export function registerDescribe(fns: Command, ctx: CliContext): void {
  withExamples(
    fns
      .command('describe')
      .description('show one function in full: spec, state, replicas, last error and invocation counts')
      .argument('<name>', 'function name')
      .action(async (name: string) => {
        ctx.announceTarget();
        const api = await ctx.api();
        const view = await getFunctionOrHint(ctx, api, name);
        const metrics = await invocationCounts(ctx, api, name);
        const lastError = lastErrorOf(view);
        ctx.out.document({
          ok: true,
          target: ctx.options.target,
          function: view,
          // Also in function.status.instances; here the newest, whichever replica it came from.
          lastError: lastError ?? null,
          invocations: metrics.counts ?? null,
          ...(metrics.source ? { metricsUrl: metrics.source } : {}),
          ...(metrics.unavailable ? { invocationsUnavailable: metrics.unavailable } : {}),
        });
        const { c } = ctx.out;
        const lines = describeFunction(view, c);
        lines.push(...replicaLines(view, c));
        lines.push(`  ${c.dim('last error:')} ${lastError ? errorLine(lastError, c) : c.dim('none reported')}`);
        lines.push(`  ${c.dim('invocations:')}`);
        if (metrics.counts) {
          for (const line of countLines(metrics.counts)) lines.push(`    ${line}`);
          lines.push(`    ${c.dim(`(since the control plane started; ${metrics.source})`)}`);
        } else {
          lines.push(`    ${c.dim(metrics.unavailable ?? 'unavailable')}`);
        }
        ctx.out.data(lines.join('\n'));
      }),
    [
      ['nanofaas functions describe word-stats-python'],
      ['nanofaas functions describe word-stats-python --json | jq .invocations', 'the counts from /metrics'],
      [
        'nanofaas functions describe word-stats-python --json | jq .function.status.instances',
        'each replica: endpoint, restarts, last error',
      ],
    ],
  ).addHelpText('after', '\n--json: {ok, target, function (spec + status with instances), lastError, invocations, metricsUrl}');
}

/** The newest error: a FAILED function's message, else the latest a replica recorded. */
export function lastErrorOf(view: FunctionView): { message: string; at?: string; replica?: number } | undefined {
  const status = view.status;
  if (status?.state === 'FAILED' && status.message) return { message: status.message };
  let newest: { message: string; at: string; replica: number } | undefined;
  for (const r of status?.instances ?? []) {
    if (r.lastError && (!newest || r.lastError.at > newest.at)) newest = { ...r.lastError, replica: r.index };
  }
  return newest;
}

function errorLine(error: { message: string; at?: string; replica?: number }, c: ChalkInstance): string {
  const where = [error.at, error.replica === undefined ? undefined : `replica ${error.replica}`].filter(Boolean).join(', ');
  return where ? `${error.message} ${c.dim(`(${where})`)}` : error.message;
}

/** One line per replica: index, state, endpoint, restarts. Absent where the backend reports none (Kubernetes). */
function replicaLines(view: FunctionView, c: ChalkInstance): string[] {
  const instances = view.status?.instances;
  if (instances === undefined) return [`  ${c.dim('replica detail:')} ${c.dim('not reported by this backend (a cluster shows its pods)')}`];
  if (instances.length === 0) return [];
  const state = (r: ReplicaStatus) => {
    const [word, paint] = r.ready ? (['ready', c.green] as const) : r.url ? (['starting', c.yellow] as const) : (['down', c.red] as const);
    return paint(word.padEnd(8));
  };
  const width = Math.max(...instances.map((r) => (r.url ?? '-').length));
  return [
    `  ${c.dim('replicas:')}`,
    ...instances.map((r) => `    #${r.index}  ${state(r)}  ${(r.url ?? '-').padEnd(width)}  ${plural(r.restarts, 'restart')}`),
  ];
}

function countLines(k: FunctionCounts): string[] {
  const outcome = [`${k.success} success`, `${k.error} error`, `${k.timeout} timeout`];
  if (k.rejected > 0) outcome.push(`${k.rejected} rejected (queue full)`);
  const lines = [`${plural(k.invocations, 'invocation')}: ${outcome.join(', ')}`];
  lines.push(`${plural(k.retries, 'retry', 'retries')}, ${plural(k.coldStarts, 'cold start')}`);
  lines.push(`now: ${k.inFlight} in flight, ${k.queueDepth} queued`);
  if (k.meanE2eMs !== undefined) lines.push(`mean end-to-end: ${k.meanE2eMs.toFixed(1)} ms`);
  return lines;
}

/**
 * The management port's /metrics for this API: the endpoints `up` recorded, when they are the
 * ones this client talks to (NANOFAAS_URL may point elsewhere), else the target's own.
 */
async function managementUrl(ctx: CliContext, api: ApiClient): Promise<string | undefined> {
  const recorded = ctx.state.endpoints();
  const same = (url: string | undefined) => {
    try {
      return url !== undefined && normalizeBaseUrl(url) === api.baseUrl;
    } catch {
      return false;
    }
  };
  if (recorded && same(recorded.apiUrl)) return recorded.managementUrl;
  if (envValue(ctx.env, 'NANOFAAS_URL')) return undefined;
  const endpoints = await (await ctx.target()).endpoints().catch(() => undefined);
  return endpoints && same(endpoints.apiUrl) ? endpoints.managementUrl : undefined;
}

async function invocationCounts(
  ctx: CliContext,
  api: ApiClient,
  name: string,
): Promise<{ counts?: FunctionCounts; source?: string; unavailable?: string }> {
  const base = await managementUrl(ctx, api);
  if (!base) return { unavailable: 'the management port is not known for this API (NANOFAAS_URL points to one `up` did not start)' };
  const source = `${base.replace(/\/+$/, '')}/metrics`;
  try {
    const res = await api.probe(source);
    if (res.status !== 200) return { source, unavailable: `${source} answered HTTP ${res.status}` };
    const counts = functionCounts(res.text, name);
    return counts ? { counts, source } : { source, unavailable: `${source} holds no nanofaas metrics` };
  } catch (error) {
    return { source, unavailable: `cannot read ${source}: ${(error as Error).message}` };
  }
}
