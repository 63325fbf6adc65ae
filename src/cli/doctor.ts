import type { Command } from 'commander';
import type { FunctionView } from '@nanofaas/control-plane/contracts';
import { ApiError, type ApiClient } from '../api-client/client.js';
import type { CheckResult, DoctorCheck } from '../targets/target.js';
import { loadCatalog } from '../util/catalog.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { EXIT } from './errors.js';
import { withExamples } from './examples.js';
import { oneLine, plural } from './function-view.js';

export function registerDoctor(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('doctor')
    .description('diagnose the common problems that apply to the target, each with a fix')
    .action(async () => {
      ctx.announceTarget();
      const target = await ctx.target();
      const checks = [...target.doctorChecks(), ...apiChecks(ctx)];
      const results: (CheckResult & { id: string; title: string })[] = [];
      const { c } = ctx.out;
      for (const check of checks) {
        let result: CheckResult;
        try {
          result = await check.run();
        } catch (error) {
          result = { status: 'fail', detail: error instanceof Error ? error.message : String(error) };
        }
        results.push({ id: check.id, title: check.title, ...result });
        const icon = result.status === 'ok' ? c.green('✔') : result.status === 'warn' ? c.yellow('!') : c.red('✖');
        ctx.out.data(`${icon} ${check.title.padEnd(34)} ${c.dim(result.detail)}`);
        if (result.status !== 'ok' && result.fix) ctx.out.data(`  ${c.cyan('fix:')} ${result.fix}`);
      }
      const failed = results.filter((r) => r.status === 'fail').length;
      ctx.out.document({ ok: failed === 0, target: target.name, checks: results });
      ctx.out.status(failed === 0 ? c.green('no problems found') : c.red(`${failed} problem${failed === 1 ? '' : 's'} found`));
      if (failed > 0) ctx.exitCode = EXIT.failed;
    });
  withExamples(cmd, [['nanofaas doctor'], ['nanofaas doctor --json | jq ".checks[] | select(.status != \\"ok\\")"']]);
}

/** Checks that hold for every target: they only talk to the API and Prometheus. */
function apiChecks(ctx: CliContext): DoctorCheck[] {
  let client: ApiClient | undefined;
  const api = async () => (client ??= await ctx.api());
  const reachable = async (): Promise<boolean> => {
    try {
      await (await api()).listFunctions();
      return true;
    } catch {
      return false;
    }
  };
  const up = ctx.suggest('up');
  const skipped: CheckResult = { status: 'warn', detail: 'skipped: API not reachable', fix: `run \`${up}\` first` };
  return [
    {
      id: 'api-reachable',
      title: 'API reachable',
      async run() {
        try {
          const fns = await (await api()).listFunctions();
          return { status: 'ok', detail: `${(await api()).baseUrl} answers (${plural(fns.length, 'function')})` };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const unauthorized = error instanceof ApiError && error.status === 401;
          return {
            status: 'fail',
            detail: message,
            fix: unauthorized
              ? 'set NANOFAAS_API_TOKEN to the control plane token'
              : `start it with \`${up}\`, or point NANOFAAS_URL at the API`,
          };
        }
      },
    },
    {
      id: 'functions-registered',
      title: 'demo functions registered',
      async run() {
        if (!(await reachable())) return skipped;
        const names = new Set((await (await api()).listFunctions()).map((f) => f.name));
        const expected = loadCatalog(ctx.rootDir).functions.map((f) => f.name);
        const missing = expected.filter((n) => !names.has(n));
        if (missing.length === 0) return { status: 'ok', detail: `all ${plural(expected.length, 'catalog function')}` };
        return {
          status: missing.length === expected.length ? 'fail' : 'warn',
          detail: `missing: ${missing.join(', ')}`,
          fix: `\`${up}\` registers every function whose toolchain is present (see the reasons it gives for any it skips)`,
        };
      },
    },
    {
      id: 'functions-start',
      title: 'functions start',
      async run() {
        if (!(await reachable())) return skipped;
        const client = await api();
        const views = await Promise.all(
          (await client.listFunctions()).map((f) =>
            client.getFunction(f.name).catch((error: unknown): FunctionView | undefined => {
              if (error instanceof ApiError && error.status === 404) return undefined; // deleted meanwhile
              throw error;
            }),
          ),
        );
        const failed = views.filter((v): v is FunctionView => v?.status?.state === 'FAILED');
        const starting = views.filter((v): v is FunctionView => v?.status?.state === 'PENDING');
        if (failed.length > 0) {
          const logs = failed.map((v) => v.status.logPath).filter((p): p is string => p !== undefined);
          return {
            status: 'fail',
            detail: failed.map((v) => `${v.name} cannot start: ${oneLine(v.status.message ?? 'its workload failed', 160)}`).join('; '),
            fix:
              (logs.length > 0 ? `read ${logs.join(', ')}; ` : '') +
              `fix the handler or spec, then re-register it: ${ctx.suggest('functions register -f spec.json --replace')}` +
              ` (${failed.map((v) => `\`${ctx.suggest(`functions get ${v.name}`)}\``).join(', ')} shows the last log lines)`,
          };
        }
        if (starting.length > 0) {
          return {
            status: 'warn',
            detail: `still starting: ${starting.map((v) => v.name).join(', ')}`,
            fix: `check again shortly: \`${ctx.suggest('status')}\``,
          };
        }
        return { status: 'ok', detail: views.length === 0 ? 'no functions registered' : `${plural(views.length, 'function')} ready` };
      },
    },
    {
      id: 'exec-stdio',
      title: 'exec functions use STDIO mode',
      async run() {
        if (!(await reachable())) return skipped;
        const wrong = (await (await api()).listFunctions()).filter((f) => f.runtime === 'exec' && f.runtimeMode !== 'STDIO');
        if (wrong.length === 0) return { status: 'ok', detail: 'bash functions run through the watchdog in STDIO mode' };
        return {
          status: 'fail',
          detail: `${wrong.map((f) => `${f.name} is ${f.runtimeMode}`).join(', ')} (bash functions crash-loop in HTTP mode)`,
          fix: `re-register with "runtimeMode": "STDIO": ${ctx.suggest('functions register -f spec.json --replace')}`,
        };
      },
    },
    {
      id: 'no-false-429',
      title: 'no sync rejections (429)',
      async run() {
        const endpoints = ctx.state.endpoints() ?? (await (await ctx.target()).endpoints());
        if (!endpoints) return skipped;
        let text: string;
        try {
          text = (await (await api()).probe(`${endpoints.managementUrl}/metrics`)).text;
        } catch {
          return {
            status: 'warn',
            detail: `metrics not reachable at ${endpoints.managementUrl}/metrics`,
            fix: `check \`${ctx.suggest('status')}\``,
          };
        }
        const rejected = sumMetric(text, 'function_queue_rejected_total');
        if (rejected === 0) return { status: 'ok', detail: 'function_queue_rejected_total is 0' };
        return {
          status: 'warn',
          detail: `${plural(rejected, 'invocation')} ${rejected === 1 ? 'was' : 'were'} rejected with 429 (queue full or estimated wait too long)`,
          fix: "raise the function's queueSize/concurrency, or tune SYNC_QUEUE_MAX_ESTIMATED_WAIT_MS / SYNC_QUEUE_ADMISSION_ENABLED on the control plane",
        };
      },
    },
    {
      id: 'prometheus',
      title: 'Prometheus answers',
      async run() {
        const url =
          envValue(ctx.env, 'PROM_URL') || ctx.state.endpoints()?.prometheusUrl || (await (await ctx.target()).endpoints())?.prometheusUrl;
        if (!url)
          return {
            status: 'warn',
            detail: 'not running',
            fix: `\`${up}\` starts it (unless given --no-prometheus; a target check above says if it is missing), or set PROM_URL`,
          };
        try {
          const res = await (await api()).probe(`${url.replace(/\/$/, '')}/api/v1/query?query=up`);
          if (res.status === 200) return { status: 'ok', detail: `${url} /api/v1/query?query=up → 200` };
          return {
            status: 'fail',
            detail: `${url} answered ${res.status}`,
            fix: 'see the Prometheus log in the state directory (logs/prometheus.log)',
          };
        } catch (error) {
          return {
            status: 'fail',
            detail: `${url}: ${(error as Error).message}`,
            fix: `rerun \`${up}\` (it restarts Prometheus), or unset PROM_URL`,
          };
        }
      },
    },
  ];
}

function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}
