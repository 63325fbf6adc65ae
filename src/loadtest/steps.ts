import { readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { FunctionSpec } from '@nanofaas/control-plane/contracts';
import { ApiError, type ApiClient } from '../api-client/client.js';
import { StepFailure, type Step, type StepIO } from '../pipeline/step.js';
import { loadCatalog } from '../util/catalog.js';
import { displayCommand } from '../util/process.js';
import type { CatalogEntry } from './catalog.js';
import { runLoad, type LoadMode, type LoadTarget, type Progress } from './engine.js';
import { composeArgv, composeUp, grafanaReadiness, type GrafanaOutcome, type GrafanaReadiness, type GrafanaRecorder } from './grafana.js';
import { runK6 } from './k6-runner.js';
import {
  FIND_MAX_FILE,
  searchMax,
  stepProfile,
  writeFindMax,
  type FindMaxFile,
  type FindMaxStep,
  type SearchSettings,
} from './find-max.js';
import { checkParity, readVectors, type Answer, type Disagreement } from './parity.js';
import { isOpenModel, thresholdsFor, totalDurationMs, type LoadProfile } from './profile.js';
import { scheduleOf } from './arrival.js';
import { prometheusReady, saveSnapshot, snapshotWindow } from './prometheus.js';
import { appendWindow, openRunLog, writeSummary } from './results.js';
import type { RunStats } from './stats.js';
import { writeSeries } from './timeseries.js';
import { selectFunctions, SelectionError, type Filters } from './select.js';
import { judge, type Verdict } from './verdict.js';
import { failedRate, type Summary } from './summary.js';
import { formatSpan } from './plan.js';

export type EngineName = 'builtin' | 'k6';

export interface FunctionRun {
  function: string;
  runtime: string;
  summaryPath: string;
  verdict: Verdict;
  /** Stopped by Ctrl-C before its stages ended (the summary says so too). */
  interrupted: boolean;
  requests: number;
  failedRate: number;
  p95Ms: number;
}

/** Everything one `loadtest` run decides and produces; the steps fill it in order. */
export interface LoadtestContext {
  rootDir: string;
  env: NodeJS.ProcessEnv;
  api: ApiClient;
  /**
   * Every control-plane replica's API (`up --replicas N`, replica 0 = `api`'s) when there are
   * several: both engines spread their requests over them.
   */
  replicaUrls?: readonly string[] | undefined;
  profile: LoadProfile;
  /** The --stages text, passed through to k6 as STAGES. */
  stagesOverride?: string | undefined;
  mode: LoadMode;
  engine: EngineName;
  resultsDir: string;
  filters: Filters;
  skipParity: boolean;
  selected: CatalogEntry[];
  /** The control plane's specs, as the first step found them (run.json records each one's image). */
  registered?: FunctionSpec[];
  disagreements: Disagreement[];
  grafana?: GrafanaOutcome;
  /** What the Grafana step found it can use (set by its skip check). */
  grafanaReadiness?: GrafanaReadiness;
  /** The CLI state directory: a Grafana stack this run starts is recorded there for `down`. */
  state?: GrafanaRecorder;
  prometheusUrl?: string | undefined;
  runs: FunctionRun[];
  notes: string[];
  /** --find-max: search each function's highest sustained arrival rate instead of running the profile. */
  findMax?: SearchSettings | undefined;
  /** What --find-max found so far (rewritten to find-max.json after each function). */
  findMaxFile?: FindMaxFile;
  /** Where progress lines go (a live line on a TTY, periodic plain lines otherwise). */
  progress: (fn: string, progress: Progress, io: StepIO) => void;
  /** A line the user should see (a find-max step), whatever the renderer shows of step logs. */
  say?: (line: string, io: StepIO) => void;
  /** Aborted on Ctrl-C: the running function stops at once and is recorded as interrupted. */
  signal?: AbortSignal;
  /** A `nanofaas …` command line for a hint, keeping the user's global flags. */
  suggest?: (command: string) => string;
}

const suggestIn = (ctx: LoadtestContext, command: string): string => (ctx.suggest ? ctx.suggest(command) : `nanofaas ${command}`);

/** Thrown by a load step stopped by Ctrl-C; the command reports it as an interrupt, not a failure. */
export class LoadInterrupted extends StepFailure {
  constructor(message: string) {
    super(message);
    this.name = 'LoadInterrupted';
  }
}

/** Before any load: API reachable, functions registered and selected, parity, side services. */
export function preflightSteps(): Step<LoadtestContext>[] {
  return [
    {
      title: 'Check the API and the registered functions',
      run: async (ctx, io) => {
        io.target(`${ctx.api.baseUrl}/v1/functions`);
        let registered: Awaited<ReturnType<typeof ctx.api.listFunctions>>;
        try {
          registered = await ctx.api.listFunctions();
        } catch (error) {
          throw new StepFailure((error as Error).message, { hint: `is nanofaas up? \`${suggestIn(ctx, 'status')}\`, or set NANOFAAS_URL` });
        }
        try {
          ctx.selected = selectFunctions(registered, loadCatalog(ctx.rootDir).functions, Object.keys(ctx.profile.workloads), ctx.filters);
        } catch (error) {
          if (error instanceof SelectionError) {
            throw new StepFailure(error.message, {
              hint: `register them with \`${suggestIn(ctx, 'up')}\` or \`${suggestIn(ctx, 'functions register')}\`, or change --functions/--runtimes/--workloads`,
            });
          }
          throw error;
        }
        ctx.registered = registered;
        io.log(`${ctx.selected.length} function(s): ${ctx.selected.map((f) => f.name).join(', ')}`);
      },
    },
    {
      title: 'Output parity across runtimes (functions/testdata vectors)',
      skip: (ctx) => (ctx.skipParity ? '--skip-parity' : false),
      hint: 'fix the runtime that strays from the vectors, or pass --skip-parity to load-test anyway',
      run: async (ctx, io) => {
        const invoke = async (fn: string, input: unknown): Promise<Answer> => {
          try {
            return { ok: true, output: (await ctx.api.invoke(fn, input)).output };
          } catch (error) {
            if (error instanceof ApiError) return { ok: false, status: error.status, error: error.code };
            throw error;
          }
        };
        const workloads = [...new Set(ctx.selected.map((f) => f.workload))];
        for (const workload of workloads) {
          const functions = ctx.selected.filter((f) => f.workload === workload).map((f) => f.name);
          const vectors = readVectors(ctx.rootDir, workload);
          io.target(`${ctx.api.baseUrl}/v1/functions/{${functions.join(',')}}:invoke`);
          ctx.disagreements.push(...(await checkParity(workload, functions, vectors, invoke)));
          io.log(`${workload}: ${vectors.length} vectors × ${functions.length} function(s)`);
        }
        if (ctx.disagreements.length > 0) {
          // The command prints the full diff (formatDisagreements) under the step error.
          throw new StepFailure(`${ctx.disagreements.length} vector(s) answered differently than functions/testdata expects (diff below)`);
        }
      },
    },
    {
      title: 'Grafana dashboard',
      // Only a stack that really started is ✔: no Docker or no Compose is a skip with its reason.
      skip: async (ctx) => {
        ctx.grafanaReadiness = await grafanaReadiness(ctx.rootDir, ctx.env);
        return ctx.grafanaReadiness.ready ? false : ctx.grafanaReadiness.reason;
      },
      hint: 'fix Docker Compose (see the message), or set SKIP_GRAFANA=true to load-test without the dashboard',
      run: async (ctx, io) => {
        const readiness = ctx.grafanaReadiness;
        if (!readiness?.ready) throw new StepFailure('Grafana: not checked before starting');
        io.target(displayCommand(...composeArgv(readiness.compose, readiness.composeFile, 'up', '-d')));
        ctx.grafana = await composeUp(readiness.compose, readiness.composeFile, ctx.env, ctx.prometheusUrl, ctx.state);
        if (!ctx.grafana.started) throw new StepFailure(ctx.grafana.message);
        io.log(ctx.grafana.message);
        ctx.notes.push(ctx.grafana.message);
      },
    },
    {
      title: 'Prometheus snapshots',
      skip: async (ctx) => {
        if (ctx.prometheusUrl === undefined) return `no Prometheus known (set PROM_URL, or start one with \`${suggestIn(ctx, 'up')}\`)`;
        if (!(await prometheusReady(ctx.prometheusUrl))) {
          const url = ctx.prometheusUrl;
          ctx.prometheusUrl = undefined;
          return `no Prometheus answering at ${url}`;
        }
        return false;
      },
      run: (ctx, io) => io.log(`per test window from ${ctx.prometheusUrl ?? ''}`),
    },
  ];
}

/** Remove the previous run's files so the report shows this run only (not other files). */
export function clearResults(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (/\.(json|jsonl|log|md|html)$/.test(name)) rmSync(join(dir, name), { force: true });
  }
}

/** The pause between two functions' runs. */
function coolDownStep(seconds: number): Step<LoadtestContext> {
  return {
    title: `Cool-down ${seconds}s`,
    run: async (c) => {
      // A cool-down cut short by Ctrl-C did not happen: it fails rather than showing ✔.
      if (c.signal?.aborted) throw new LoadInterrupted('interrupted');
      const finished = await delay(seconds * 1000, true, c.signal ? { signal: c.signal } : {}).catch(() => false);
      if (!finished) throw new LoadInterrupted('interrupted');
    },
  };
}

/** One step per function (sequential, cool-down between), each writing its files and verdict. */
export function loadSteps(ctx: LoadtestContext): Step<LoadtestContext>[] {
  const steps: Step<LoadtestContext>[] = [];
  ctx.selected.forEach((fn, index) => {
    if (index > 0 && ctx.profile.coolDownSeconds > 0) steps.push(coolDownStep(ctx.profile.coolDownSeconds));
    steps.push({ title: `Load ${fn.name} (${fn.runtime}, ${ctx.engine}, ${ctx.mode})`, run: (c, io) => loadOne(c, fn, io) });
  });
  return steps;
}

/** What the built-in engine loads: the function through the API (every replica's, when several). */
function loadTarget(ctx: LoadtestContext, fn: CatalogEntry): LoadTarget {
  return {
    baseUrl: ctx.api.baseUrl,
    replicaUrls: ctx.replicaUrls,
    function: fn.name,
    workload: fn.workload,
    runtime: fn.runtime,
    token: ctx.api.token,
  };
}

/** The step's target line says when the load is spread over several control-plane replicas. */
function spreadNote(ctx: LoadtestContext): string {
  const n = ctx.replicaUrls?.length ?? 0;
  return n > 1 ? ` and ${n - 1} more replica(s)` : '';
}

async function loadOne(ctx: LoadtestContext, fn: CatalogEntry, io: StepIO): Promise<void> {
  if (ctx.signal?.aborted) throw new LoadInterrupted('interrupted before it started');
  const thresholds = thresholdsFor(ctx.profile, fn.runtime);
  let result: { summary: Summary; start: Date; end: Date; interrupted: boolean; stats?: RunStats };
  if (ctx.engine === 'k6') {
    io.target(`k6 run k6/scripts/${fn.name}.js${spreadNote(ctx)}`);
    result = await runK6(
      {
        rootDir: ctx.rootDir,
        baseUrl: ctx.api.baseUrl,
        replicaUrls: ctx.replicaUrls,
        function: fn.name,
        workload: fn.workload,
        runtime: fn.runtime,
        mode: ctx.mode,
        resultsDir: ctx.resultsDir,
        stages: ctx.stagesOverride,
        thinkTimeSeconds: ctx.profile.thinkTimeSeconds,
        thresholds,
        // k6 passes its environment to the script as __ENV: the open model's arrival block goes as ARRIVAL.
        // k6 reads the token from its environment: the one the API client uses (perhaps read from the chart's Secret).
        env: {
          ...ctx.env,
          ...(ctx.api.token ? { NANOFAAS_API_TOKEN: ctx.api.token } : {}),
          ...(isOpenModel(ctx.profile) ? { ARRIVAL: JSON.stringify(ctx.profile.arrival) } : {}),
        },
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
      (line) => io.log(line),
    );
  } else {
    io.target(`${ctx.api.baseUrl}/v1/functions/${fn.name}:${ctx.mode === 'sync' ? 'invoke' : 'enqueue'}${spreadNote(ctx)}`);
    const log = openRunLog(ctx.resultsDir, fn.name);
    result = await runLoad(loadTarget(ctx, fn), {
      profile: ctx.profile,
      mode: ctx.mode,
      thresholds,
      log,
      onProgress: (p) => ctx.progress(fn.name, p, io),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    writeSummary(ctx.resultsDir, fn.name, result.summary);
    if (result.stats) writeSeries(ctx.resultsDir, result.stats.toSeries(fn.name));
  }
  const window = { function: fn.name, runtime: fn.runtime, start: result.start.toISOString(), end: result.end.toISOString() };
  appendWindow(ctx.resultsDir, window);
  // After Ctrl-C the user wants out, not a round of Prometheus queries.
  if (ctx.prometheusUrl !== undefined && !result.interrupted) {
    try {
      saveSnapshot(ctx.resultsDir, ctx.prometheusUrl, await snapshotWindow(ctx.prometheusUrl, window));
    } catch (error) {
      // A missing snapshot must not void a finished load test; say so and carry on.
      ctx.notes.push(`Prometheus snapshot of ${fn.name} failed: ${(error as Error).message}`);
    }
  }
  const verdict = judge(result.summary, thresholds);
  const m = result.summary.metrics;
  ctx.runs.push({
    function: fn.name,
    runtime: fn.runtime,
    summaryPath: join(ctx.resultsDir, `${fn.name}.json`),
    verdict,
    interrupted: result.interrupted,
    requests: m.http_reqs.count,
    failedRate: failedRate(result.summary),
    p95Ms: m.http_req_duration['p(95)'],
  });
  const dropped = m.dropped_iterations ? `, ${m.dropped_iterations.count} dropped (no free VU)` : '';
  const figures = `${m.http_reqs.count} requests, ${(failedRate(result.summary) * 100).toFixed(2)}% failed, p95 ${m.http_req_duration['p(95)'].toFixed(1)} ms${dropped}`;
  if (result.interrupted) {
    const ran = formatSpan(result.end.getTime() - result.start.getTime());
    // The step fails (never ✔) and the pipeline starts nothing after it.
    throw new LoadInterrupted(
      `interrupted after ${ran} of ${formatSpan(scheduleOf(ctx.profile.arrival)?.totalMs ?? totalDurationMs(ctx.profile.stages))} (${figures}; recorded as interrupted)`,
    );
  }
  io.log(
    `${figures} — ${
      verdict.passed
        ? 'thresholds passed'
        : `FAILED ${verdict.checks
            .filter((c) => !c.passed)
            .map((c) => c.expression)
            .join(' ')}`
    }`,
  );
}

/** "120/s: p95 4.1 ms, 0.00% failed, 0 dropped ✔" — one line per find-max step. */
export function findMaxStepLine(step: FindMaxStep): string {
  const figures = `${step.rate}/s: ${step.achievedRate.toFixed(1)}/s done, p95 ${step.p95Ms.toFixed(1)} ms, ${(step.failedRate * 100).toFixed(2)}% failed, ${step.dropped} dropped`;
  const line = step.passed ? `${figures} ✔` : `${figures} ✗ ${step.breach ?? ''}`;
  return step.retry ? `repeat ${line}` : line;
}

/**
 * --find-max: one step per function (cool-down between), each a bounded search of constant
 * arrival rates with the built-in engine. The summary of the highest rate that held (or, when
 * none did, of the first step) is the function's <fn>.json, so the usual report covers it too.
 */
export function findMaxSteps(ctx: LoadtestContext): Step<LoadtestContext>[] {
  const settings = ctx.findMax;
  if (settings === undefined) return [];
  ctx.findMaxFile = {
    slo: settings.slo,
    mode: ctx.mode,
    startRate: settings.startRate,
    factor: settings.factor,
    maxRate: settings.maxRate,
    stepDurationSeconds: settings.stepDurationMs / 1000,
    maxIncompleteRate: settings.maxIncompleteRate,
    functions: [],
  };
  const steps: Step<LoadtestContext>[] = [];
  ctx.selected.forEach((fn, index) => {
    if (index > 0 && ctx.profile.coolDownSeconds > 0) steps.push(coolDownStep(ctx.profile.coolDownSeconds));
    steps.push({
      title: `Find the max rate of ${fn.name} (${fn.runtime}, ${ctx.mode}, SLO ${settings.slo.expression})`,
      run: (c, io) => findMaxOne(c, fn, settings, io),
    });
  });
  return steps;
}

async function findMaxOne(ctx: LoadtestContext, fn: CatalogEntry, settings: SearchSettings, io: StepIO): Promise<void> {
  if (ctx.signal?.aborted) throw new LoadInterrupted('interrupted before it started');
  io.target(`${ctx.api.baseUrl}/v1/functions/${fn.name}:${ctx.mode === 'sync' ? 'invoke' : 'enqueue'}${spreadNote(ctx)}`);
  const log = openRunLog(ctx.resultsDir, fn.name);
  const say = (line: string): void => (ctx.say ? ctx.say(line, io) : io.log(line));
  const start = new Date();
  const found = await searchMax(
    async (rate, purpose) => {
      log(`${purpose} at ${rate}/s for ${settings.stepDurationMs} ms`);
      const result = await runLoad(loadTarget(ctx, fn), {
        profile: stepProfile(ctx.profile, rate, settings),
        mode: ctx.mode,
        log,
        // Each step's closing figures are in its step line; the live line shows the step under way.
        onProgress: (p) => (p.final ? undefined : ctx.progress(fn.name, p, io)),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      return { summary: result.summary, interrupted: result.interrupted };
    },
    settings,
    (step) => {
      log(findMaxStepLine(step));
      say(`${fn.name}: ${findMaxStepLine(step)}`);
    },
  );
  const end = new Date();
  const summary = found.best ?? found.first;
  if (summary) writeSummary(ctx.resultsDir, fn.name, summary);
  appendWindow(ctx.resultsDir, { function: fn.name, runtime: fn.runtime, start: start.toISOString(), end: end.toISOString() });
  const file = ctx.findMaxFile;
  if (file) {
    file.functions.push({
      function: fn.name,
      runtime: fn.runtime,
      maxRate: found.maxRate,
      stoppedBy: found.stoppedBy,
      ...(found.reason !== undefined ? { reason: found.reason } : {}),
      steps: found.steps,
      start: start.toISOString(),
      end: end.toISOString(),
    });
    writeFindMax(ctx.resultsDir, file);
  }
  if (summary) {
    const m = summary.metrics;
    ctx.runs.push({
      function: fn.name,
      runtime: fn.runtime,
      summaryPath: join(ctx.resultsDir, `${fn.name}.json`),
      // The search's verdict is its SLO, judged step by step: the profile's thresholds do not apply.
      verdict: { passed: found.maxRate !== null, checks: [] },
      interrupted: found.stoppedBy === 'interrupted',
      requests: m.http_reqs.count,
      failedRate: failedRate(summary),
      p95Ms: m.http_req_duration['p(95)'],
    });
  }
  if (found.stoppedBy === 'interrupted') throw new LoadInterrupted(`interrupted (${FIND_MAX_FILE} has the steps so far)`);
  say(
    `${fn.name}: ${
      found.maxRate === null
        ? `no rate held, not even ${settings.startRate}/s (${found.reason ?? ''})`
        : `highest sustained rate ${found.maxRate}/s${found.stoppedBy === 'max-rate' ? ' (the --max-rate cap: it held there)' : ` (above it, ${found.reason ?? ''})`}`
    }`,
  );
}
