import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Progress } from '../loadtest/engine.js';
import { describeArrival, parseRate, RateError, scheduleOf } from '../loadtest/arrival.js';
import { DEFAULT_SEARCH, searchBoundMs, type SearchSettings } from '../loadtest/find-max.js';
import { applyOverrides, isOpenModel, loadProfile, parseDurationMs, ProfileError, type LoadProfile } from '../loadtest/profile.js';
import { parseSlo, SloError } from '../loadtest/slo.js';
import { clearResults, findMaxSteps, loadSteps, preflightSteps, type EngineName, type LoadtestContext } from '../loadtest/steps.js';
import { estimateRunMs, formatSpan, unsendablePlan } from '../loadtest/plan.js';
import { totalDurationMs } from '../loadtest/profile.js';
import { formatDisagreements } from '../loadtest/parity.js';
import { writeRunFile } from '../loadtest/run-info.js';
import { describeRun, startProbes } from '../loadtest/run-info-collect.js';
import { chooseRenderer } from '../pipeline/renderer.js';
import { formatStepError, type StepIO } from '../pipeline/step.js';
import { defaultResultsDir } from '../report/generate.js';
import { which } from '../util/process.js';
import { envValue } from '../config/env.js';
import type { CliContext } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { intArg, listArg, withExamples } from './examples.js';
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
  rate?: number;
  duration?: string;
  rateStages?: string;
  preAllocatedVus?: number;
  maxVus?: number;
  findMax?: boolean;
  slo?: string;
  stepDuration?: string;
  startRate?: number;
  maxRate?: number;
}

/** Commander argParser for --rate, --start-rate, --max-rate: "100", "100/s", "6000/m". */
const rateArg =
  (name: string) =>
  (value: string): number => {
    try {
      return parseRate(value);
    } catch (error) {
      if (error instanceof RateError) throw new InvalidArgumentError(`${name}: ${error.message}`);
      throw error;
    }
  };

const durationArg =
  (name: string) =>
  (value: string): string => {
    try {
      if (parseDurationMs(value) <= 0) throw new ProfileError('must be longer than 0');
    } catch (error) {
      if (error instanceof ProfileError) throw new InvalidArgumentError(`${name}: ${error.message}`);
      throw error;
    }
    return value.trim();
  };

const seconds =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600)
      throw new InvalidArgumentError(`${name} must be a number of seconds between 0 and 3600, got '${value}'`);
    return n;
  };

function resolveProfile(ctx: CliContext, flags: LoadtestFlags): LoadProfile {
  let profile: LoadProfile;
  try {
    const base = loadProfile(flags.profile ? resolve(flags.profile) : resolve(ctx.rootDir, 'k6', 'profile.json'));
    profile = applyOverrides(base, {
      stages: flags.stages,
      thinkTimeSeconds: flags.thinkTime,
      coolDownSeconds: flags.coolDown,
      rate: flags.rate,
      duration: flags.duration,
      rateStages: flags.rateStages,
      preAllocatedVus: flags.preAllocatedVus,
      maxVus: flags.maxVus,
    });
  } catch (error) {
    if (error instanceof ProfileError) throw new UsageError(error.message);
    throw error;
  }
  // The open model's schedule stands on its own: the VU stages do not apply.
  if (isOpenModel(profile) && scheduleOf(profile.arrival)?.total === 0) {
    throw new UsageError(
      'the arrival rate never rises above 0, so no iteration would start; give a rate, e.g. --rate-stages 10s:50,30s:50',
    );
  }
  if (isOpenModel(profile) || flags.findMax) return profile;
  // A plan that cannot send one request would show ✔ for every step and then fail its thresholds.
  const unsendable = unsendablePlan(profile, flags.stages !== undefined);
  if (unsendable !== undefined) throw new UsageError(unsendable);
  return profile;
}

function resolveEngine(ctx: CliContext, wanted: LoadtestFlags['engine']): EngineName {
  const k6 = which('k6', ctx.env);
  if (wanted === 'k6' && !k6)
    throw new CliError('--engine k6: k6 is not on PATH', {
      hint: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use --engine builtin',
    });
  if (wanted === 'auto') return k6 ? 'k6' : 'builtin';
  return wanted;
}

/** One progress line; the final one carries the summary's figures (the report's table agrees). */
export function progressLine(fn: string, p: Progress): string {
  const rate = p.final ? 'avg' : 'now';
  const open = p.targetRate !== undefined ? ` of ${p.targetRate.toFixed(p.targetRate < 10 ? 1 : 0)}/s` : '';
  const dropped = p.dropped !== undefined ? ` · ${p.dropped} dropped` : '';
  return `${fn}: ${Math.round(p.elapsedMs / 1000)}/${Math.round(p.totalMs / 1000)}s · ${p.vus} VUs · ${p.rps.toFixed(1)} req/s ${rate}${open} · p95 ${p.p95Ms.toFixed(1)} ms · ${p.failed} failed of ${p.requests}${dropped}`;
}

/** --find-max's settings from the flags; a bad or missing --slo is a one-line usage error. */
function resolveFindMax(flags: LoadtestFlags): SearchSettings | undefined {
  if (!flags.findMax) {
    const stray = (['slo', 'stepDuration', 'startRate', 'maxRate'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --find-max`);
    return undefined;
  }
  if (flags.slo === undefined)
    throw new UsageError("--find-max needs --slo, e.g. --slo 'p95<20ms' (p50|p90|p95|p99 in ms or s, optionally failed<N%)");
  let slo: SearchSettings['slo'];
  try {
    slo = parseSlo(flags.slo);
  } catch (error) {
    if (error instanceof SloError) throw new UsageError(error.message);
    throw error;
  }
  const startRate = flags.startRate ?? DEFAULT_SEARCH.startRate;
  const maxRate = flags.maxRate ?? Math.max(DEFAULT_SEARCH.maxRate, startRate);
  if (maxRate < startRate) throw new UsageError(`--max-rate ${maxRate}/s is below --start-rate ${startRate}/s`);
  return {
    ...DEFAULT_SEARCH,
    slo,
    startRate,
    maxRate,
    stepDurationMs: flags.stepDuration !== undefined ? parseDurationMs(flags.stepDuration) : DEFAULT_SEARCH.stepDurationMs,
  };
}

/**
 * Progress: a live line on a TTY; otherwise (never with --json) the first tick, one line every
 * 10 s and the final line.
 */
function progressPrinter(ctx: CliContext): LoadtestContext['progress'] {
  const live =
    chooseRenderer({ json: ctx.options.json, verbose: ctx.options.verbose, isTTY: process.stdout.isTTY === true, env: ctx.env }) ===
    'default';
  let lastPlain: number | undefined;
  let current = '';
  return (fn: string, p: Progress, io: StepIO) => {
    if (fn !== current) {
      current = fn;
      lastPlain = undefined;
    }
    const line = progressLine(fn, p);
    if (live) return io.log(line);
    if (lastPlain !== undefined && p.elapsedMs - lastPlain < 10_000 && !p.final) return;
    lastPlain = p.elapsedMs;
    if (ctx.options.verbose) io.log(line);
    else ctx.out.status(line);
  };
}

/** A line the user should see whatever the renderer: under the live step on a TTY, else a status line. */
function stepSayer(ctx: CliContext): NonNullable<LoadtestContext['say']> {
  const live =
    chooseRenderer({ json: ctx.options.json, verbose: ctx.options.verbose, isTTY: process.stdout.isTTY === true, env: ctx.env }) ===
    'default';
  return (line, io) => (live || ctx.options.verbose ? io.log(line) : ctx.out.status(line));
}

/** "about 7 min 40 s for 4 functions (1 min 50 s each, 10 s cool-down between)". */
export function durationLine(profile: LoadProfile, functions: number): string {
  const schedule = scheduleOf(profile.arrival);
  const eachMs = schedule ? schedule.totalMs : totalDurationMs(profile.stages);
  const each = formatSpan(eachMs);
  const coolDown = functions > 1 && profile.coolDownSeconds > 0 ? `, ${formatSpan(profile.coolDownSeconds * 1000)} cool-down between` : '';
  const plural = functions === 1 ? 'function' : 'functions';
  const totalMs = schedule
    ? eachMs * functions + profile.coolDownSeconds * 1000 * Math.max(0, functions - 1)
    : estimateRunMs(profile, functions);
  return `${formatSpan(totalMs, true)} for ${functions} ${plural} (${each} each${coolDown})`;
}

/**
 * Ctrl-C: what ran is on disk (an interrupted run marked so, never judged) for `report`; the
 * one line and exit 130 come from the program, which knows the command was interrupted.
 */
function documentInterrupt(ctx: CliContext, run: LoadtestContext, resultsDir: string): void {
  ctx.out.document({
    ok: false,
    interrupted: true,
    target: ctx.options.target,
    engine: run.engine,
    mode: run.mode,
    resultsDir,
    runs: run.runs,
  });
  ctx.exitCode = EXIT.interrupted;
}

/**
 * Every replica's API when the stack this CLI talks to runs several control-plane replicas
 * (`up --replicas N`: endpoints.json lists them, replica 0's API is the client's), else undefined:
 * a URL given by --api-url or NANOFAAS_URL is one API however many replicas stand behind it.
 */
export function replicaApis(replicas: readonly { apiUrl: string }[] | undefined, baseUrl: string): string[] | undefined {
  if (!replicas || replicas.length < 2) return undefined;
  const same = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  return same(replicas[0]!.apiUrl, baseUrl) ? replicas.map((r) => r.apiUrl) : undefined;
}

export function registerLoadtest(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('loadtest')
    .description(
      'load-test the registered functions one after another (k6 when installed, else the built-in engine), then write the report',
    )
    .option('--stages <list>', 'override the profile stages, e.g. 5s:3,10s:8 (duration:VUs, ramped like k6)')
    .option('--functions <names>', 'only these functions (comma-separated)', listArg)
    .option('--runtimes <names>', 'only these runtimes, e.g. java,python', listArg)
    .option('--workloads <names>', 'only these workloads, e.g. word-stats', listArg)
    .addOption(
      new Option('--mode <mode>', 'sync = POST :invoke; async = :enqueue then wait for the execution (end-to-end)')
        .choices(['sync', 'async'])
        .default('sync'),
    )
    .option('--think-time <s>', 'pause after each request, seconds (profile: 0.1)', seconds('--think-time'))
    .option('--cool-down <s>', 'pause between functions, seconds (profile: 10)', seconds('--cool-down'))
    .option('--results-dir <dir>', 'where summaries, logs and the report go (default k6/results)')
    .addOption(new Option('--engine <engine>', 'load generator').choices(['auto', 'builtin', 'k6']).default('auto'))
    .option('--skip-parity', 'do not compare the runtimes on functions/testdata first', false)
    .option('--profile <file>', 'another load profile (default k6/profile.json)')
    .addOption(
      new Option('--rate <n/s>', 'open model: start iterations at this constant rate (k6 constant-arrival-rate), with --duration')
        .argParser(rateArg('--rate'))
        .conflicts(['stages', 'rateStages', 'findMax', 'thinkTime']),
    )
    .option('--duration <d>', 'how long --rate runs, e.g. 30s, 2m', durationArg('--duration'))
    .addOption(
      new Option(
        '--rate-stages <list>',
        'open model: ramp the rate per second, e.g. 10s:50,30s:200 (k6 ramping-arrival-rate from 0)',
      ).conflicts(['stages', 'findMax', 'thinkTime', 'duration']),
    )
    .option(
      '--pre-allocated-vus <n>',
      'open model: VUs ready at the start (profile arrival.preAllocatedVUs, else 10)',
      intArg('--pre-allocated-vus', 1, 10_000),
    )
    .option(
      '--max-vus <n>',
      'open model: the pool grows to this; past it iterations are dropped and counted (else 200)',
      intArg('--max-vus', 1, 10_000),
    )
    .addOption(
      new Option(
        '--find-max',
        'per function, raise a constant arrival rate step by step until --slo breaks; report the highest sustained rate',
      ).conflicts(['stages', 'engine']),
    )
    .option('--slo <expr>', "with --find-max: what must hold at a rate, e.g. 'p95<20ms' or 'p99<50ms,failed<0.5%' (default failed<1%)")
    .option('--step-duration <d>', 'with --find-max: how long each rate is held (default 5s)', durationArg('--step-duration'))
    .option('--start-rate <n/s>', 'with --find-max: the first rate (default 10/s; ×1.5 per step)', rateArg('--start-rate'))
    .option('--max-rate <n/s>', 'with --find-max: stop rising here (default 3000/s)', rateArg('--max-rate'))
    .action(async (flags: LoadtestFlags) => {
      ctx.announceTarget();
      const { out } = ctx;
      const findMax = resolveFindMax(flags);
      const profile = resolveProfile(ctx, flags);
      // The search drives the built-in engine step by step; k6 runs one scenario per process.
      const engine = findMax ? 'builtin' : resolveEngine(ctx, flags.engine);
      const api = await ctx.api();
      const resultsDir = flags.resultsDir ? resolve(flags.resultsDir) : defaultResultsDir(ctx.rootDir);
      const run: LoadtestContext = {
        rootDir: ctx.rootDir,
        env: ctx.env,
        api,
        replicaUrls: replicaApis(ctx.state.endpoints()?.replicas, api.baseUrl),
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
        say: stepSayer(ctx),
        findMax,
        signal: ctx.signal,
        suggest: (command) => ctx.suggest(command),
      };
      const load = findMax
        ? `find-max: SLO ${findMax.slo.expression}, from ${findMax.startRate}/s ×${findMax.factor} per ${formatSpan(findMax.stepDurationMs)} step up to ${findMax.maxRate}/s`
        : isOpenModel(profile)
          ? `rate: ${describeArrival(profile)}`
          : `stages: ${profile.stages.map((s) => `${s.duration}:${s.target}`).join(',')}`;
      out.status(out.c.dim(`engine: ${engine} · mode: ${flags.mode} · ${load} · results: ${resultsDir}`));
      const probes = startProbes(ctx.rootDir, ctx.env, engine);
      let result = await ctx.pipeline(preflightSteps(), run);
      if (result.ok && !ctx.signal.aborted) {
        clearResults(resultsDir);
        out.status(
          findMax
            ? `load: at most ${formatSpan(searchBoundMs(findMax, findMax.stepDurationMs) * run.selected.length)} for ${run.selected.length} function(s); each search stops itself at the first rate that breaks`
            : `load: ${durationLine(profile, run.selected.length)}`,
        );
        const start = new Date();
        result = await ctx.pipeline(findMax ? findMaxSteps(run) : loadSteps(run), run);
        const end = new Date();
        const spread = run.replicaUrls ? { replicaApiUrls: [...run.replicaUrls] } : {};
        const target = { name: ctx.options.target, apiUrl: api.baseUrl, ...spread };
        writeRunFile(resultsDir, await describeRun({ ...run, target, start, end, interrupted: ctx.signal.aborted }, probes));
      }
      if (ctx.signal.aborted) {
        documentInterrupt(ctx, run, resultsDir);
        return;
      }
      if (!result.ok) {
        out.document({
          ok: false,
          target: ctx.options.target,
          engine,
          runs: run.runs,
          disagreements: run.disagreements,
          ...(result.error ? { error: result.error.toJSON() } : {}),
        });
        if (result.error) for (const [i, line] of formatStepError(result.error).entries()) out.error(i === 0 ? out.c.red(line) : line);
        if (run.disagreements.length > 0) for (const line of formatDisagreements(run.disagreements)) out.error(line);
        ctx.exitCode = EXIT.failed;
        return;
      }
      const generated = produceReport(ctx, { resultsDir, formats: ['md', 'html', 'json'] });
      const failed = run.runs.filter((r) => !r.verdict.passed);
      out.document({
        ok: failed.length === 0,
        target: ctx.options.target,
        engine,
        mode: flags.mode,
        resultsDir,
        runs: run.runs,
        notes: run.notes,
        report: generated.report,
        ...(run.findMaxFile ? { findMax: run.findMaxFile } : {}),
        files: generated.paths,
      });
      printReport(ctx, generated);
      for (const note of run.notes) out.status(out.c.yellow('note: ') + note);
      if (failed.length > 0 && findMax) {
        out.error(
          out.c.red(
            `no rate held the SLO ${findMax.slo.expression} for ${failed.map((r) => r.function).join(', ')} (exit ${EXIT.thresholds})`,
          ),
        );
        ctx.exitCode = EXIT.thresholds;
      } else if (failed.length > 0) {
        out.error(out.c.red(`thresholds failed for ${failed.map((r) => r.function).join(', ')} (exit ${EXIT.thresholds})`));
        ctx.exitCode = EXIT.thresholds;
      }
    });
  withExamples(cmd, [
    ['nanofaas loadtest', 'every registered demo function, default profile (~2 min each)'],
    ['nanofaas loadtest --stages 5s:3,10s:8 --cool-down 1', 'a short run'],
    ['nanofaas loadtest --runtimes python,node --mode async', 'enqueue + wait, end to end'],
    ['nanofaas loadtest --functions word-stats-java --engine builtin'],
    ['NANOFAAS_URL=http://10.0.0.5:30080 PROM_URL=http://10.0.0.5:30090 nanofaas loadtest'],
    ['nanofaas loadtest --rate 200/s --duration 30s', 'open model: 200 iterations/s whatever the latency'],
    ['nanofaas loadtest --rate-stages 10s:50,30s:200 --max-vus 400', 'ramp the arrival rate 0→50→200/s'],
    ["nanofaas loadtest --find-max --slo 'p95<20ms'", 'highest rate each function sustains at p95 < 20 ms'],
    ["nanofaas loadtest --find-max --slo 'p99<50ms,failed<0.5%' --step-duration 10s", 'a p99 SLO, 10 s per rate'],
  ]);
}
