import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { loadExeca } from '../util/execa.js';
import type { LoadMode } from './engine.js';
import type { Thresholds } from './profile.js';
import { k6PointsPath, logPath, summaryPath, writeSummary } from './results.js';
import { seriesFromK6Points, writeSeries } from './timeseries.js';
import { Summary, type RunInfo } from './summary.js';
import { eachLine } from '../util/process.js';

export interface K6RunSpec {
  /** Repository root: the scripts live in <root>/k6/scripts/<function>.js. */
  rootDir: string;
  baseUrl: string;
  /** Every control-plane replica's API (`up --replicas N`): the script spreads its VUs over them. */
  replicaUrls?: readonly string[] | undefined;
  function: string;
  workload: string;
  runtime: string;
  mode: LoadMode;
  resultsDir: string;
  /** The --stages override as typed ("5s:3,10s:8"); the script parses it. */
  stages?: string | undefined;
  thinkTimeSeconds?: number | undefined;
  thresholds?: Thresholds | undefined;
  k6Binary?: string;
  env?: NodeJS.ProcessEnv;
  /** Ctrl-C: k6 gets one SIGINT, stops its VUs and still writes its summary, marked interrupted. */
  signal?: AbortSignal;
}

export interface K6Command {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export function k6ScriptPath(rootDir: string, fn: string): string {
  return join(rootDir, 'k6', 'scripts', `${fn}.js`);
}

/** The exact k6 invocation for one function; pure, so a test can assert it. */
export function k6Command(spec: K6RunSpec): K6Command {
  const env: Record<string, string> = { NANOFAAS_URL: spec.baseUrl, MODE: spec.mode };
  if (spec.replicaUrls && spec.replicaUrls.length > 1) env.NANOFAAS_URLS = spec.replicaUrls.join(',');
  if (spec.stages !== undefined) env.STAGES = spec.stages;
  if (spec.thinkTimeSeconds !== undefined) env.THINK_TIME = String(spec.thinkTimeSeconds);
  // --out json: every point, from which the per-second series is made after the run.
  const args = [
    'run',
    '--quiet',
    '--summary-export',
    summaryPath(spec.resultsDir, spec.function),
    '--out',
    `json=${k6PointsPath(spec.resultsDir, spec.function)}`,
  ];
  for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
  args.push(k6ScriptPath(spec.rootDir, spec.function));
  return { command: spec.k6Binary ?? 'k6', args, env };
}

export class K6Error extends Error {
  override name = 'K6Error';
}

/**
 * Run k6 for one function, its output tee'd into `<fn>.log`, then stamp the summary with the
 * run's identity (k6's export has none). k6 exits 99 when its own thresholds fail; that is a
 * verdict, not a crash, so only other non-zero codes or a missing summary are errors.
 */
/** k6's exit code for a run stopped from outside (SIGINT): the summary it wrote is partial. */
const K6_EXTERNAL_ABORT = 105;

export async function runK6(
  spec: K6RunSpec,
  onLine?: (line: string) => void,
): Promise<{ summary: Summary; start: Date; end: Date; exitCode: number; interrupted: boolean }> {
  const script = k6ScriptPath(spec.rootDir, spec.function);
  if (!existsSync(script)) {
    throw new K6Error(`no k6 script for ${spec.function} (${script}); use --engine builtin for functions outside functions/catalog.json`);
  }
  const { command, args } = k6Command(spec);
  mkdirSync(spec.resultsDir, { recursive: true });
  // A points file from an earlier run must not become this run's series.
  rmSync(k6PointsPath(spec.resultsDir, spec.function), { force: true });
  const log = createWriteStream(logPath(spec.resultsDir, spec.function));
  const start = new Date();
  const tee = eachLine((line, raw) => {
    log.write(raw);
    onLine?.(line);
  });
  const { execa } = await loadExeca();
  const result = await execa(command, args, {
    env: { ...(spec.env ?? process.env) },
    extendEnv: false,
    stdin: 'ignore',
    stdout: tee,
    stderr: tee,
    buffer: false,
    // Its own process group: a terminal's Ctrl-C reaches only us, and k6 gets exactly one SIGINT
    // from the cancel signal (a second one would make k6 quit without its summary). Writing that
    // summary takes as long as it takes: no forced kill.
    detached: true,
    ...(spec.signal ? { cancelSignal: spec.signal } : {}),
    killSignal: 'SIGINT',
    forceKillAfterDelay: false,
    reject: false,
  });
  const interrupted = result.isCanceled;
  if (result.exitCode === undefined && result.signal === undefined) {
    log.end();
    throw new K6Error(`cannot start ${command}: ${result.originalMessage}`);
  }
  const exitCode = result.exitCode ?? (interrupted ? K6_EXTERNAL_ABORT : 1);
  await new Promise<void>((resolve) => log.end(resolve));
  const end = new Date();
  const path = summaryPath(spec.resultsDir, spec.function);
  if (exitCode !== 0 && exitCode !== 99 && !interrupted) {
    throw new K6Error(`${command} ${args.join(' ')} exited with ${exitCode}; see ${logPath(spec.resultsDir, spec.function)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new K6Error(`k6 wrote no readable summary at ${path} (${(error as Error).message})`);
  }
  if (!Value.Check(Summary, raw)) throw new K6Error(`${path}: the k6 summary lacks http_reqs/http_req_duration/http_req_failed/iterations`);
  const info: RunInfo = {
    function: spec.function,
    workload: spec.workload,
    runtime: spec.runtime,
    engine: 'k6',
    mode: spec.mode,
    start: start.toISOString(),
    end: end.toISOString(),
    ...(spec.thresholds ? { thresholds: spec.thresholds } : {}),
    ...(interrupted ? { interrupted: true } : {}),
  };
  const summary: Summary = { ...raw, nanofaas: info };
  writeSummary(spec.resultsDir, spec.function, summary);
  await writeK6Series(spec, onLine);
  return { summary, start, end, exitCode, interrupted };
}

/**
 * `<fn>.series.json` from k6's points. The summary is the run's result; a series that cannot be
 * made is a line in the log, never a failed load test.
 */
async function writeK6Series(spec: K6RunSpec, onLine?: (line: string) => void): Promise<void> {
  const points = k6PointsPath(spec.resultsDir, spec.function);
  const say = (line: string) => {
    appendFileSync(logPath(spec.resultsDir, spec.function), `${line}\n`);
    onLine?.(line);
  };
  if (!existsSync(points)) return say(`no time series: k6 wrote no points at ${points}`);
  try {
    writeSeries(spec.resultsDir, await seriesFromK6Points(points, spec.function));
  } catch (error) {
    say(`no time series: ${(error as Error).message}`);
  }
}
