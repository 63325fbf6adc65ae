/** `functions describe <name>`: the spec, live state, the last error and its invocation counts. */
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
        ctx.out.document({
          ok: true,
          target: ctx.options.target,
          function: view,
          invocations: metrics.counts ?? null,
          ...(metrics.source ? { metricsUrl: metrics.source } : {}),
          ...(metrics.unavailable ? { invocationsUnavailable: metrics.unavailable } : {}),
        });
        const { c } = ctx.out;
        const lines = describeFunction(view, c);
        lines.push(`  ${c.dim('invocations:')}`);
        if (metrics.counts) {
          for (const line of countLines(metrics.counts)) lines.push(`    ${line}`);
          lines.push(`    ${c.dim(`(since the control plane started; ${metrics.source})`)}`);
        } else {
          lines.push(`    ${c.dim(metrics.unavailable ?? 'unavailable')}`);
        }
        ctx.out.data(lines.join('\n'));
      }),
    [['nanofaas functions describe word-stats-python'], ['nanofaas functions describe word-stats-python --json | jq .invocations']],
  );
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
