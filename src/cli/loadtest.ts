import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Progress } from '../loadtest/engine.js';
import { applyOverrides, loadProfile, ProfileError, type LoadProfile } from '../loadtest/profile.js';
import { clearResults, loadSteps, preflightSteps, type EngineName, type LoadtestContext } from '../loadtest/steps.js';
import { formatDisagreements } from '../loadtest/parity.js';
import { chooseRenderer } from '../pipeline/renderer.js';
import { formatStepError, type StepIO } from '../pipeline/step.js';
import { defaultResultsDir } from '../report/generate.js';
import { which } from '../util/process.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { listArg, withExamples } from './examples.js';
import { printReport, produceReport } from './report.js';

interface LoadtestFlags {
  stages?: string;
  functions?: string[];
  runtimes?: string[];
  workloads?: string[];
  mode: 'sync' | 'async';
  thinkTime?: number;
  coolDown?: number;
  resultsDir?: string;
  engine: 'auto' | EngineName;
  skipParity: boolean;
  profile?: string;
}

const seconds = (name: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) throw new InvalidArgumentError(`${name} must be a number of seconds between 0 and 3600, got '${value}'`);
  return n;
};

function resolveProfile(ctx: CliContext, flags: LoadtestFlags): LoadProfile {
  try {
    const base = loadProfile(flags.profile ? resolve(flags.profile) : resolve(ctx.rootDir, 'k6', 'profile.json'));
    return applyOverrides(base, { stages: flags.stages, thinkTimeSeconds: flags.thinkTime, coolDownSeconds: flags.coolDown });
  } catch (error) {
    if (error instanceof ProfileError) throw new UsageError(error.message);
    throw error;
  }
}

function resolveEngine(ctx: CliContext, wanted: LoadtestFlags['engine']): EngineName {
  const k6 = which('k6', ctx.env);
  if (wanted === 'k6' && !k6) throw new CliError('--engine k6: k6 is not on PATH', { hint: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use --engine builtin' });
  if (wanted === 'auto') return k6 ? 'k6' : 'builtin';
  return wanted;
}

/** Progress: a live line on a TTY, a plain line every 10 s otherwise (never with --json). */
function progressPrinter(ctx: CliContext): LoadtestContext['progress'] {
  const live = chooseRenderer({ json: ctx.options.json, verbose: ctx.options.verbose, isTTY: process.stdout.isTTY === true, env: ctx.env }) === 'default';
  let lastPlain = 0;
  let current = '';
  return (fn: string, p: Progress, io: StepIO) => {
    if (fn !== current) {
      current = fn;
      lastPlain = 0;
    }
    const line = `${fn}: ${Math.round(p.elapsedMs / 1000)}/${Math.round(p.totalMs / 1000)}s · ${p.vus} VUs · ${p.rps.toFixed(1)} req/s · p95 ${p.p95Ms.toFixed(1)} ms · ${p.failed} failed of ${p.requests}`;
    if (live) return io.log(line);
    // Plain output: one line every 10 s (the final tick of a run always prints).
    if (p.elapsedMs - lastPlain < 10_000 && !p.final) return;
    lastPlain = p.elapsedMs;
    if (ctx.options.verbose) io.log(line);
    else ctx.out.status(line);
  };
}

export function registerLoadtest(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('loadtest')
    .description('load-test the registered functions one after another (k6 when installed, else the built-in engine), then write the report')
    .option('--stages <list>', 'override the profile stages, e.g. 5s:3,10s:8 (duration:VUs, ramped like k6)')
    .option('--functions <names>', 'only these functions (comma-separated)', listArg)
    .option('--runtimes <names>', 'only these runtimes, e.g. java,python', listArg)
    .option('--workloads <names>', 'only these workloads, e.g. word-stats', listArg)
    .addOption(new Option('--mode <mode>', 'sync = POST :invoke; async = :enqueue then wait for the execution (end-to-end)').choices(['sync', 'async']).default('sync'))
    .option('--think-time <s>', 'pause after each request, seconds (profile: 0.1)', seconds('--think-time'))
    .option('--cool-down <s>', 'pause between functions, seconds (profile: 10)', seconds('--cool-down'))
    .option('--results-dir <dir>', 'where summaries, logs and the report go (default k6/results)')
    .addOption(new Option('--engine <engine>', 'load generator').choices(['auto', 'builtin', 'k6']).default('auto'))
    .option('--skip-parity', 'do not compare the runtimes on functions/testdata first', false)
    .option('--profile <file>', 'another load profile (default k6/profile.json)')
    .action(async (flags: LoadtestFlags) => {
      ctx.announceTarget();
      const { out } = ctx;
      const profile = resolveProfile(ctx, flags);
      const engine = resolveEngine(ctx, flags.engine);
      const api = await ctx.api();
      const resultsDir = flags.resultsDir ? resolve(flags.resultsDir) : defaultResultsDir(ctx.rootDir);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      const run: LoadtestContext = {
        rootDir: ctx.rootDir,
        env: ctx.env,
        api,
        profile,
        stagesOverride: flags.stages,
        mode: flags.mode,
        engine,
        resultsDir,
        filters: { functions: flags.functions, runtimes: flags.runtimes, workloads: flags.workloads },
        skipParity: flags.skipParity,
        selected: [],
        disagreements: [],
        prometheusUrl: envValue(ctx.env, 'PROM_URL') ?? ctx.state.endpoints()?.prometheusUrl,
        state: ctx.state,
        runs: [],
        notes: [],
        progress: progressPrinter(ctx),
        signal: abort.signal,
      };
      out.status(out.c.dim(`engine: ${engine} · mode: ${flags.mode} · stages: ${profile.stages.map((s) => `${s.duration}:${s.target}`).join(',')} · results: ${resultsDir}`));
      try {
        let result = await ctx.pipeline(preflightSteps(), run);
        if (result.ok) {
          clearResults(resultsDir);
          result = await ctx.pipeline(loadSteps(run), run);
        }
        if (!result.ok) {
          out.document({ ok: false, target: ctx.options.target, engine, runs: run.runs, disagreements: run.disagreements, ...(result.error ? { error: result.error.toJSON() } : {}) });
          if (result.error) for (const [i, line] of formatStepError(result.error).entries()) out.error(i === 0 ? out.c.red(line) : line);
          if (run.disagreements.length > 0) for (const line of formatDisagreements(run.disagreements)) out.error(line);
          ctx.exitCode = EXIT.failed;
          return;
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
      const generated = produceReport(ctx, { resultsDir, formats: ['md', 'html', 'json'] });
      const failed = run.runs.filter((r) => !r.verdict.passed);
      out.document({ ok: failed.length === 0, target: ctx.options.target, engine, mode: flags.mode, resultsDir, runs: run.runs, notes: run.notes, report: generated.report, files: generated.paths });
      printReport(ctx, generated);
      for (const note of run.notes) out.status(out.c.yellow('note: ') + note);
      if (failed.length > 0) {
        out.error(out.c.red(`thresholds failed for ${failed.map((r) => r.function).join(', ')} (exit ${EXIT.thresholds})`));
        ctx.exitCode = EXIT.thresholds;
      }
    });
  withExamples(cmd, [
    ['nanofaas loadtest', 'every registered demo function, seed profile (~2 min each)'],
    ['nanofaas loadtest --stages 5s:3,10s:8 --cool-down 1', 'a short run'],
    ['nanofaas loadtest --runtimes python,node --mode async', 'enqueue + wait, end to end'],
    ['nanofaas loadtest --functions word-stats-java --engine builtin'],
    ['NANOFAAS_URL=http://10.0.0.5:30080 PROM_URL=http://10.0.0.5:30090 nanofaas loadtest'],
  ]);
}
