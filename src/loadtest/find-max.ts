import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { scheduleOf } from './arrival.js';
import type { LoadProfile } from './profile.js';
import { Slo, sloBreach } from './slo.js';
import { failedRate, type Summary } from './summary.js';

/**
 * `loadtest --find-max`: per function, constant-arrival-rate steps of rising rate until the SLO,
 * the failure limit, or the share of iterations that did not complete (dropped for want of a VU,
 * or still unanswered when the step's grace ran out) breaks; then a couple of steps between the
 * last good and the first bad rate narrow it down. The highest rate that held is the result.
 */

export const FIND_MAX_FILE = 'find-max.json';

export interface SearchSettings {
  slo: Slo;
  startRate: number;
  /** Each rising step multiplies the rate by this (at least +1/s). */
  factor: number;
  maxRate: number;
  stepDurationMs: number;
  /** Iterations dropped or unfinished, as a share of those scheduled, that count as not sustained. */
  maxIncompleteRate: number;
  /** Steps between the last good and the first bad rate, while they are more than 10% apart. */
  refineSteps: number;
  /**
   * A rate breaks only when it breaks twice in a row: one slow step on a shared machine (a GC
   * pause, a neighbour's burst) would otherwise end the search early; a real limit repeats.
   */
  confirmBreach: boolean;
}

export const DEFAULT_SEARCH = {
  startRate: 10,
  factor: 1.5,
  maxRate: 3000,
  stepDurationMs: 5000,
  maxIncompleteRate: 0.01,
  refineSteps: 2,
  confirmBreach: true,
} as const;

export const FindMaxStep = Type.Object({
  /** The arrival rate asked for, per second. */
  rate: Type.Number(),
  /** Iterations completed per second of the step. */
  achievedRate: Type.Number(),
  scheduled: Type.Integer(),
  iterations: Type.Integer(),
  dropped: Type.Integer(),
  p50Ms: Type.Number(),
  p95Ms: Type.Number(),
  p99Ms: Type.Union([Type.Number(), Type.Null()]),
  failedRate: Type.Number(),
  passed: Type.Boolean(),
  /** Why it did not hold. */
  breach: Type.Optional(Type.String()),
  /** The second run of a rate whose first run broke (a breach counts only when it repeats). */
  retry: Type.Optional(Type.Boolean()),
});
export type FindMaxStep = Static<typeof FindMaxStep>;

export const FunctionMax = Type.Object({
  function: Type.String(),
  runtime: Type.String(),
  /** Highest rate (per second) that held; null when even the start rate broke the SLO. */
  maxRate: Type.Union([Type.Number(), Type.Null()]),
  stoppedBy: Type.Union([Type.Literal('breach'), Type.Literal('max-rate'), Type.Literal('interrupted')]),
  /** What broke at the first rate that did not hold. */
  reason: Type.Optional(Type.String()),
  steps: Type.Array(FindMaxStep),
  start: Type.String(),
  end: Type.String(),
});
export type FunctionMax = Static<typeof FunctionMax>;

export const FindMaxFile = Type.Object({
  slo: Slo,
  mode: Type.Union([Type.Literal('sync'), Type.Literal('async')]),
  startRate: Type.Number(),
  factor: Type.Number(),
  maxRate: Type.Number(),
  stepDurationSeconds: Type.Number(),
  maxIncompleteRate: Type.Number(),
  functions: Type.Array(FunctionMax),
});
export type FindMaxFile = Static<typeof FindMaxFile>;

/** One constant-rate step's outcome as the engine ran it. */
export interface StepRun {
  summary: Summary;
  interrupted: boolean;
}

/** The profile of one step: a constant arrival rate for the step's duration, the profile's VU pool. */
export function stepProfile(profile: LoadProfile, rate: number, settings: SearchSettings): LoadProfile {
  const pool = profile.arrival ?? { preAllocatedVUs: 10, maxVUs: 200 };
  return {
    ...profile,
    arrival: {
      rate,
      duration: `${settings.stepDurationMs}ms`,
      timeUnit: '1s',
      preAllocatedVUs: pool.preAllocatedVUs,
      maxVUs: pool.maxVUs,
    },
    // A step that overloads the function must not hold the search for the profile's 30 s grace.
    gracefulStopSeconds: Math.min(profile.gracefulStopSeconds, Math.max(1, settings.stepDurationMs / 1000)),
    requestTimeoutSeconds: Math.min(profile.requestTimeoutSeconds, 10),
  };
}

/** Judge one step: the SLO, the failure limit, and how many scheduled iterations completed. */
export function judgeStep(rate: number, summary: Summary, settings: SearchSettings): FindMaxStep {
  const m = summary.metrics;
  const scheduled =
    scheduleOf({ rate, duration: `${settings.stepDurationMs}ms`, timeUnit: '1s', preAllocatedVUs: 1, maxVUs: 1 })?.total ?? 0;
  const dropped = m.dropped_iterations?.count ?? 0;
  const incomplete = Math.max(0, scheduled - m.iterations.count);
  const d = m.http_req_duration;
  let breach = sloBreach(settings.slo, summary);
  if (breach === undefined && scheduled > 0 && incomplete / scheduled > settings.maxIncompleteRate) {
    const unanswered = incomplete - dropped;
    breach = `${((incomplete / scheduled) * 100).toFixed(1)}% of iterations did not complete (${dropped} dropped, no free VU; ${unanswered} unanswered)`;
  }
  return {
    rate,
    achievedRate: m.iterations.count / (settings.stepDurationMs / 1000),
    scheduled,
    iterations: m.iterations.count,
    dropped,
    p50Ms: d.med,
    p95Ms: d['p(95)'],
    p99Ms: d['p(99)'] ?? null,
    failedRate: failedRate(summary),
    passed: breach === undefined,
    ...(breach !== undefined ? { breach } : {}),
  };
}

export const nextRate = (rate: number, factor: number): number => Math.max(rate + 1, Math.round(rate * factor));

/** The search over one function: `run` loads one constant-rate step (the warm-up included). */
export async function searchMax(
  run: (rate: number, purpose: 'warm-up' | 'step') => Promise<StepRun>,
  settings: SearchSettings,
  onStep?: (step: FindMaxStep) => void,
): Promise<{
  maxRate: number | null;
  stoppedBy: FunctionMax['stoppedBy'];
  reason?: string;
  steps: FindMaxStep[];
  best?: Summary;
  first?: Summary;
}> {
  const steps: FindMaxStep[] = [];
  // A first step against a cold function judges its start-up, not its capacity.
  if ((await run(settings.startRate, 'warm-up')).interrupted) return { maxRate: null, stoppedBy: 'interrupted', steps };
  let good: { step: FindMaxStep; summary: Summary } | undefined;
  let bad: { step: FindMaxStep; summary: Summary } | undefined;
  let first: Summary | undefined;
  const attempt = async (rate: number): Promise<'interrupted' | FindMaxStep> => {
    let last: { step: FindMaxStep; summary: Summary } | undefined;
    for (let trial = 0; trial < (settings.confirmBreach ? 2 : 1); trial++) {
      const outcome = await run(rate, 'step');
      if (outcome.interrupted) return 'interrupted';
      const step = { ...judgeStep(rate, outcome.summary, settings), ...(trial > 0 ? { retry: true } : {}) };
      first ??= outcome.summary;
      steps.push(step);
      onStep?.(step);
      last = { step, summary: outcome.summary };
      if (step.passed) {
        if (!good || rate > good.step.rate) good = last;
        return step;
      }
    }
    if (last && (!bad || rate < bad.step.rate)) bad = last;
    return last?.step ?? 'interrupted';
  };
  const result = (stoppedBy: FunctionMax['stoppedBy']) => ({
    maxRate: good?.step.rate ?? null,
    stoppedBy,
    ...(bad?.step.breach ? { reason: `${bad.step.rate}/s: ${bad.step.breach}` } : {}),
    steps,
    ...(good ? { best: good.summary } : {}),
    ...(first ? { first } : {}),
  });
  for (let rate = settings.startRate; ; rate = Math.min(settings.maxRate, nextRate(rate, settings.factor))) {
    const step = await attempt(rate);
    if (step === 'interrupted') return result('interrupted');
    if (!step.passed) break;
    if (rate >= settings.maxRate) return result('max-rate');
  }
  for (let i = 0; i < settings.refineSteps && good && bad && bad.step.rate > good.step.rate * 1.1; i++) {
    const rate = Math.round((good.step.rate + bad.step.rate) / 2);
    if (rate <= good.step.rate || rate >= bad.step.rate) break;
    if ((await attempt(rate)) === 'interrupted') return result('interrupted');
  }
  return result('breach');
}

/** How long one function's search may take at most: warm-up, rising steps to maxRate, refinements, each maybe run twice. */
export function searchBoundMs(settings: SearchSettings, graceMs: number): number {
  let steps = 1;
  for (let rate = settings.startRate; rate < settings.maxRate; rate = nextRate(rate, settings.factor)) steps++;
  const trials = settings.confirmBreach ? 2 : 1;
  return (1 + (steps + settings.refineSteps) * trials) * (settings.stepDurationMs + graceMs);
}

export function writeFindMax(dir: string, file: FindMaxFile): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FIND_MAX_FILE);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}

/** The results directory's find-max.json, undefined without one; a malformed one is an error naming the field. */
export function readFindMax(dir: string): FindMaxFile | undefined {
  const path = join(dir, FIND_MAX_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: corrupt result file, ${(error as Error).message}`);
  }
  if (!Value.Check(FindMaxFile, raw)) {
    const first = Value.Errors(FindMaxFile, raw).First();
    throw new Error(`${path}: corrupt result file, ${first ? `${first.path || '/'} ${first.message}` : 'not a find-max file'}`);
  }
  return raw;
}
