import type { Command } from 'commander';
import type { FunctionView } from '@nanofaas/control-plane/contracts';
import { ApiError } from '../api-client/client.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { EXIT } from './errors.js';
import { withExamples } from './examples.js';
import { oneLine } from './function-view.js';

interface FunctionRow {
  name: string;
  runtime: string;
  state: string;
  replicas: number;
  readyReplicas: number;
  message?: string;
  /** Process backend: the function's log file (on the control plane's host). */
  logPath?: string;
}

export function registerStatus(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('status')
    .description('show each component and function with health and replicas')
    .action(async () => {
      ctx.announceTarget();
      const target = await ctx.target();
      const status = await target.statusOf();
      const cp = status.components.find((c) => c.name === 'control-plane');
      let functions: FunctionRow[] = [];
      let apiError: string | undefined;
      if (!cp || cp.state === 'running' || envValue(ctx.env, 'NANOFAAS_URL')) {
        try {
          functions = await listFunctions(ctx);
        } catch (error) {
          if (!(error instanceof ApiError) && !(error instanceof Error)) throw error;
          apiError = error.message;
        }
      }
      const healthy =
        status.components.every((c) => c.state !== 'unhealthy') && functions.every((f) => f.state === 'READY') && apiError === undefined;
      const running = status.components.some((c) => c.state === 'running');
      ctx.out.document({
        ok: healthy,
        target: target.name,
        running,
        endpoints: status.endpoints ?? null,
        components: status.components,
        functions,
        ...(apiError ? { apiError } : {}),
      });

      const { c } = ctx.out;
      const paint = (state: string) =>
        state === 'running' || state === 'READY'
          ? c.green(state)
          : state === 'stopped'
            ? c.dim(state)
            : state === 'PENDING'
              ? c.yellow(state)
              : c.red(state);
      ctx.out.table([
        ['COMPONENT', 'STATE', 'PID', 'DETAIL'],
        ...status.components.map((comp) => [
          comp.name,
          paint(comp.state),
          comp.pid ? String(comp.pid) : '-',
          comp.url ?? comp.detail ?? '',
        ]),
      ]);
      const e = status.endpoints;
      if (e) {
        ctx.out.data('');
        ctx.out.table([
          ['ENDPOINT', 'URL'],
          ['API', `${e.apiUrl}/v1/functions`],
          ['Metrics', `${e.managementUrl}/metrics`],
          ...(e.prometheusUrl ? [['Prometheus', e.prometheusUrl]] : []),
          ...(e.grafanaUrl ? [['Grafana', e.grafanaUrl]] : []),
        ]);
      }
      if (functions.length > 0) {
        ctx.out.data('');
        ctx.out.table([
          ['FUNCTION', 'RUNTIME', 'STATE', 'REPLICAS', 'MESSAGE'],
          // One line per function whatever the message holds; the log has the rest.
          ...functions.map((f) => [
            f.name,
            f.runtime,
            paint(f.state),
            `${f.readyReplicas}/${f.replicas}`,
            f.message ? oneLine(f.message) : '',
          ]),
        ]);
        for (const f of functions) if (f.state !== 'READY' && f.logPath) ctx.out.data(c.dim(`${f.name} log: ${f.logPath}`));
      } else if (apiError) {
        ctx.out.data(c.red(`API: ${apiError}`));
      } else if (running) {
        ctx.out.data(c.dim('no functions registered'));
      }
      if (!running && !envValue(ctx.env, 'NANOFAAS_URL')) ctx.out.status(c.dim(`nothing running — start it with \`${ctx.suggest('up')}\``));
      if (!healthy) ctx.exitCode = EXIT.failed;
    });
  withExamples(cmd, [['nanofaas status'], ['nanofaas status --json | jq ".functions[] | {name, state}"']]);
}

async function listFunctions(ctx: CliContext): Promise<FunctionRow[]> {
  const api = await ctx.api();
  const specs = await api.listFunctions();
  const views = await Promise.all(
    specs.map((s) =>
      api.getFunction(s.name).catch((error: unknown): FunctionView | undefined => {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }),
    ),
  );
  return views
    .filter((v): v is FunctionView => v !== undefined)
    .map((v) => ({
      name: v.name,
      runtime: v.runtime ?? v.image ?? '-',
      state: v.status?.state ?? 'UNKNOWN',
      replicas: v.status?.replicas ?? v.replicas,
      readyReplicas: v.status?.readyReplicas ?? 0,
      ...(v.status?.message ? { message: v.status.message } : {}),
      ...(v.status?.logPath ? { logPath: v.status.logPath } : {}),
    }));
}
