import type { Command } from 'commander';
import type { UpContext, UpOptions } from '../targets/target.js';
import { formatDuration, table } from '../util/format.js';
import { formatStepError } from '../pipeline/step.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { EXIT, UsageError } from './errors.js';
import { loadCatalog } from '../util/catalog.js';
import { intArg, listArg, withExamples } from './examples.js';

interface UpFlags {
  skipBuild: boolean;
  functions?: string[];
  runtimes?: string[];
  port?: number;
  managementPort?: number;
  prometheus: boolean;
  nats: boolean;
  replicas: number;
  dryRun: boolean;
  context?: string;
  registry?: string;
  build: boolean;
}

export function registerUp(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('up')
    .description(
      'start nanofaas on the target, register and smoke-test the demo functions (other catalog functions are removed; your own are kept)',
    )
    .option('--skip-build', 'use existing build artifacts (env SKIP_BUILD=true)', false)
    .option('--functions <names>', 'only these catalog functions (comma-separated); the other catalog functions are removed', listArg)
    .option('--runtimes <names>', 'only functions of these runtimes, e.g. node,python', listArg)
    .option('--port <n>', 'API port (0 = any free port; default 8080, or a free one if taken)', intArg('--port', 0, 65535))
    .option('--management-port <n>', 'metrics/health port (default 8081, or a free one)', intArg('--management-port', 0, 65535))
    .option('--no-prometheus', 'do not start Prometheus')
    .option('--nats', 'local target: start nats-server -js (store in the state directory) and run the control plane in NATS mode', false)
    .option(
      '--replicas <n>',
      'local target: control-plane replicas sharing one nats-server (needs --nats; replica 0 keeps --port, the others take free ports)',
      intArg('--replicas', 1, 16),
      1,
    )
    .option('--dry-run', 'print the plan (commands and actions) without running it', false)
    .option('--context <name>', 'kubeconfig target: kube context (env NANOFAAS_KUBE_CONTEXT)')
    .option(
      '--registry <prefix>',
      'kubeconfig target: where images are pushed and pulled from, host[:port][/path]; images are <prefix>/nanofaas/<name>:<version>, or <prefix>/<name>:<version> when the prefix already ends in /nanofaas (env NANOFAAS_REGISTRY)',
    )
    .option('--no-build', 'kubeconfig target: no build, no push; the cluster pulls prebuilt images (same as --skip-build)')
    .action(async (flags: UpFlags) => {
      ctx.announceTarget();
      validateSelection(ctx.rootDir, flags);
      // Replicas share queued work, records and the registry only through NATS: refuse before anything starts.
      if (flags.replicas > 1 && !flags.nats)
        throw new UsageError(
          `--replicas ${flags.replicas} needs --nats (replicas share work through NATS): ${ctx.suggest(`up --nats --replicas ${flags.replicas}`)}`,
        );
      // The cluster targets read these from their env (the target is created lazily, just below).
      if (flags.context) ctx.env.NANOFAAS_KUBE_CONTEXT = flags.context;
      if (flags.registry) ctx.env.NANOFAAS_REGISTRY = flags.registry;
      const target = await ctx.target();
      if (flags.nats && target.name !== 'local')
        throw new UsageError('--nats is for the local target only (other targets have no NATS mode yet)');
      if (flags.replicas > 1 && target.name !== 'local')
        throw new UsageError('--replicas is for the local target only (on a cluster, the chart sets controlPlane.replicas)');
      const options: UpOptions = {
        skipBuild: flags.skipBuild || !flags.build || envValue(ctx.env, 'SKIP_BUILD'),
        prometheus: flags.prometheus,
        ...(flags.nats ? { nats: true } : {}),
        ...(flags.replicas > 1 ? { replicas: flags.replicas } : {}),
        ...(flags.functions ? { functions: flags.functions } : {}),
        ...(flags.runtimes ? { runtimes: flags.runtimes } : {}),
        ...(flags.port !== undefined ? { apiPort: flags.port } : {}),
        ...(flags.managementPort !== undefined ? { managementPort: flags.managementPort } : {}),
      };
      const up: UpContext = { functions: [], notes: [] };
      const result = await ctx.pipeline(target.upSteps(options), up, { dryRun: flags.dryRun });
      const { out } = ctx;
      out.document({
        ok: result.ok,
        target: target.name,
        dryRun: flags.dryRun,
        endpoints: up.endpoints ?? null,
        functions: up.functions,
        removed: up.removed ?? [],
        steps: result.steps.map((s) => ({ ...s, durationMs: Math.round(s.durationMs) })),
        durationMs: Math.round(result.durationMs),
        notes: up.notes,
        ...(result.interrupted ? { interrupted: true } : {}),
        ...(result.error ? { error: result.error.toJSON() } : {}),
      });
      if (!result.ok) {
        if (result.error) {
          const [first, ...rest] = formatStepError(result.error);
          out.error(out.c.red(first ?? ''));
          for (const line of rest) out.error(line);
        }
        ctx.exitCode = EXIT.failed;
        return;
      }
      if (flags.dryRun) return;
      for (const line of banner(ctx, target.name, up, result.durationMs)) out.data(line);
    });
  withExamples(cmd, [
    ['nanofaas up', 'build, start, register and smoke-test everything runnable'],
    ['nanofaas up --runtimes node,python', 'only the node and python demo functions'],
    ['nanofaas up --port 0 --management-port 0', 'any free ports'],
    ['SKIP_BUILD=true nanofaas up', 'reuse existing artifacts'],
    ['nanofaas up --nats --replicas 2', 'local: nats-server and two control-plane replicas sharing async work and the registry'],
    ['nanofaas up --dry-run', 'show what would run'],
    ['nanofaas up --json | jq .endpoints', 'machine-readable result'],
  ]);
}

/** The end-of-setup banner: endpoints, functions, what was removed, and the next command. */
function banner(ctx: CliContext, targetName: string, up: UpContext, durationMs: number): string[] {
  const { c } = ctx.out;
  const rule = c.dim('━'.repeat(52));
  const deployed = up.functions.filter((f) => !f.skipped);
  const lines = [
    rule,
    c.bold(`  nanofaas is up`) + c.dim(`  ·  target ${targetName}  ·  ${deployed.length} functions  ·  ${formatDuration(durationMs)}`),
    rule,
    '',
    'Endpoints:',
  ];
  const e = up.endpoints;
  if (e) {
    const rows = [
      ['  API:', `${e.apiUrl}/v1/functions`],
      ['  Metrics:', `${e.managementUrl}/metrics`],
      ...(e.replicas ?? []).filter((r) => r.replica > 0).map((r) => [`  Replica ${r.replica}:`, `${r.apiUrl}/v1/functions`]),
      ['  Prometheus:', e.prometheusUrl ?? c.dim('not running')],
      ...(e.grafanaUrl ? [['  Grafana:', e.grafanaUrl]] : []),
    ];
    lines.push(...table(rows, 1));
  }
  if (up.functions.length > 0) {
    lines.push('', 'Functions:');
    const rows = up.functions.map((f) => {
      if (f.skipped) return ['  ' + c.dim(f.name), c.dim(f.runtime), c.yellow(`skipped: ${f.skipped}`)];
      const smoke = f.smoke
        ? f.smoke.ok
          ? c.green(`✔ smoke ${Math.round(f.smoke.ms)}ms`)
          : c.red(`✖ smoke: ${f.smoke.message ?? 'failed'}`)
        : '';
      return ['  ' + f.name, f.runtime, `${f.registration ?? ''}  ${smoke}`.trim()];
    });
    lines.push(...table(rows));
  }
  if (up.removed && up.removed.length > 0) {
    lines.push('', `Removed (catalog functions this run did not deploy): ${up.removed.join(', ')}`);
  }
  for (const note of up.notes) lines.push('', c.yellow('note: ') + note);
  lines.push('', 'Next step — run the load test:', `  ${c.cyan(ctx.suggest('loadtest'))}`);
  return lines;
}

/** --functions/--runtimes name catalog entries; a typo is a usage error, not an empty deployment. */
function validateSelection(rootDir: string, flags: UpFlags): void {
  const catalog = loadCatalog(rootDir);
  const unknownFns = (flags.functions ?? []).filter((n) => !catalog.functions.some((f) => f.name === n));
  if (unknownFns.length > 0)
    throw new UsageError(`unknown function ${unknownFns.join(', ')} (catalog: ${catalog.functions.map((f) => f.name).join(', ')})`);
  const runtimes = [...new Set(catalog.functions.map((f) => f.runtime))];
  const unknownRts = (flags.runtimes ?? []).filter((r) => !(runtimes as string[]).includes(r));
  if (unknownRts.length > 0) throw new UsageError(`unknown runtime ${unknownRts.join(', ')} (choose ${runtimes.join(', ')})`);
}
