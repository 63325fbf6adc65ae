import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * k6/profile.json: the one load profile both engines read. The k6 scripts interpret the same
 * fields in k6/lib/profile.js; test/loadtest/k6-parity.test.ts keeps the two readings equal.
 */

const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';

export const Stage = Type.Object(
  {
    duration: Type.String({ pattern: DURATION_PATTERN }),
    target: Type.Integer({ minimum: 0, maximum: 10_000 }),
  },
  { additionalProperties: false },
);
export type Stage = Static<typeof Stage>;

export const Thresholds = Type.Object(
  {
    p95Ms: Type.Number({ exclusiveMinimum: 0 }),
    p99Ms: Type.Number({ exclusiveMinimum: 0 }),
    failedRate: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);
export type Thresholds = Static<typeof Thresholds>;

const OutputCheck = Type.Union([
  Type.Object({ path: Type.String({ minLength: 1 }), greaterThan: Type.Number() }, { additionalProperties: false }),
  Type.Object({ path: Type.String({ minLength: 1 }), defined: Type.Literal(true) }, { additionalProperties: false }),
]);
export type OutputCheck = Static<typeof OutputCheck>;

const Range = Type.Object({ min: Type.Integer(), max: Type.Integer() }, { additionalProperties: false });

const TextsWorkload = Type.Object(
  {
    kind: Type.Literal('texts'),
    texts: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    topN: Type.Integer({ minimum: 1 }),
    check: OutputCheck,
  },
  { additionalProperties: false },
);

const RecordsWorkload = Type.Object(
  {
    kind: Type.Literal('records'),
    rows: Type.Integer({ minimum: 1, maximum: 10_000 }),
    groupBy: Type.String({ minLength: 1 }),
    valueField: Type.String({ minLength: 1 }),
    operations: Type.Array(
      Type.Union([Type.Literal('count'), Type.Literal('sum'), Type.Literal('avg'), Type.Literal('min'), Type.Literal('max')]),
      { minItems: 1 },
    ),
    departments: Type.Array(Type.String(), { minItems: 1 }),
    salary: Range,
    age: Range,
    check: OutputCheck,
  },
  { additionalProperties: false },
);

export const WorkloadPayload = Type.Union([TextsWorkload, RecordsWorkload]);
export type WorkloadPayload = Static<typeof WorkloadPayload>;

/** One stage of a ramping arrival rate: reach `target` iterations per timeUnit over `duration`. */
export const RateStage = Type.Object(
  {
    duration: Type.String({ pattern: DURATION_PATTERN }),
    target: Type.Number({ minimum: 0, maximum: 100_000 }),
  },
  { additionalProperties: false },
);
export type RateStage = Static<typeof RateStage>;

/**
 * The open model (k6's constant-arrival-rate / ramping-arrival-rate): iterations start on a
 * schedule whatever the server does. Without `rate` or `stages` it only sizes the VU pool for
 * --rate; with either, the run is open-model and `stages` of VUs above are not used.
 */
export const Arrival = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    /** Constant-arrival-rate: iterations per timeUnit, for `duration`. */
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
    duration: Type.Optional(Type.String({ pattern: DURATION_PATTERN })),
    /** Ramping-arrival-rate: the rate at the start of the first stage (k6's startRate). */
    startRate: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000 })),
    stages: Type.Optional(Type.Array(RateStage, { minItems: 1 })),
    timeUnit: Type.String({ pattern: DURATION_PATTERN }),
    preAllocatedVUs: Type.Integer({ minimum: 1, maximum: 10_000 }),
    maxVUs: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);
export type Arrival = Static<typeof Arrival>;

export const LoadProfile = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    stages: Type.Array(Stage, { minItems: 1 }),
    arrival: Type.Optional(Arrival),
    thinkTimeSeconds: Type.Number({ minimum: 0 }),
    coolDownSeconds: Type.Number({ minimum: 0 }),
    requestTimeoutSeconds: Type.Number({ exclusiveMinimum: 0 }),
    gracefulStopSeconds: Type.Number({ minimum: 0 }),
    thresholds: Type.Record(Type.String(), Thresholds),
    workloads: Type.Record(Type.String(), WorkloadPayload),
  },
  { additionalProperties: false },
);
export type LoadProfile = Static<typeof LoadProfile>;

export class ProfileError extends Error {
  override name = 'ProfileError';
}

/** Validate parsed JSON as a profile; the error names the file and the first bad field. */
export function parseProfile(raw: unknown, source = 'profile'): LoadProfile {
  if (Value.Check(LoadProfile, raw)) {
    const problem = arrivalProblem(raw.arrival);
    if (problem !== undefined) throw new ProfileError(`${source}: invalid load profile at /arrival: ${problem}`);
    return raw;
  }
  const first = Value.Errors(LoadProfile, raw).First();
  const where = first?.path === '' || first === undefined ? '' : ` at ${first.path}`;
  throw new ProfileError(`${source}: invalid load profile${where}: ${first?.message ?? 'unknown error'}`);
}

/** What the schema cannot say about an arrival block: which fields go together. */
function arrivalProblem(arrival: Arrival | undefined): string | undefined {
  if (arrival === undefined) return undefined;
  if (arrival.rate !== undefined && arrival.stages !== undefined) return 'give either rate (constant) or stages (ramping), not both';
  if (arrival.rate !== undefined && arrival.duration === undefined) return 'a constant rate needs a duration, e.g. "duration": "30s"';
  if (arrival.stages !== undefined && arrival.duration !== undefined) return 'duration goes with rate; stages carry their own durations';
  if (arrival.maxVUs < arrival.preAllocatedVUs) return `maxVUs (${arrival.maxVUs}) is below preAllocatedVUs (${arrival.preAllocatedVUs})`;
  if (parseDurationMs(arrival.timeUnit) === 0) return 'timeUnit must be longer than 0';
  return undefined;
}

/** Whether the profile asks for the open model (an arrival rate) rather than ramping VUs. */
export function isOpenModel(profile: LoadProfile): boolean {
  return profile.arrival?.rate !== undefined || profile.arrival?.stages !== undefined;
}

export function loadProfile(path: string): LoadProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ProfileError(`${path}: cannot read the load profile (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseProfile(raw, path);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10s", "1m30s", "500ms" → milliseconds. */
export function parseDurationMs(text: string): number {
  const source = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(source); match !== null; match = pattern.exec(source)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = pattern.lastIndex;
  }
  if (consumed === 0 || consumed !== source.length || !Number.isFinite(total)) {
    throw new ProfileError(`invalid duration "${source}" (examples: 500ms, 10s, 1m30s)`);
  }
  return total;
}

/** The --stages override: "5s:3,10s:8" → stages. */
export function parseStages(spec: string): Stage[] {
  const stages = spec.split(',').map((part) => {
    const [duration, target, ...rest] = part.trim().split(':');
    if (duration === undefined || target === undefined || rest.length > 0 || !/^\d+$/.test(target)) {
      throw new ProfileError(`invalid stage "${part.trim()}" (expected <duration>:<vus>, e.g. 10s:5)`);
    }
    parseDurationMs(duration);
    return { duration, target: Number(target) };
  });
  return stages;
}

/** Thresholds of a runtime; a runtime the profile does not list is an error, not a silent pass. */
export function thresholdsFor(profile: LoadProfile, runtime: string): Thresholds {
  const limits = profile.thresholds[runtime];
  if (limits === undefined) {
    throw new ProfileError(
      `no thresholds for runtime "${runtime}" in the load profile (known: ${Object.keys(profile.thresholds).join(', ')})`,
    );
  }
  return limits;
}

/** The same thresholds as k6 expressions (what the k6 scripts put in options.thresholds). */
export function thresholdExpressions(limits: Thresholds): Record<string, string[]> {
  return {
    http_req_duration: [`p(95)<${limits.p95Ms}`, `p(99)<${limits.p99Ms}`],
    http_req_failed: [`rate<${limits.failedRate}`],
  };
}

export function totalDurationMs(stages: readonly Stage[]): number {
  return stages.reduce((sum, stage) => sum + parseDurationMs(stage.duration), 0);
}

export interface ProfileOverrides {
  stages?: string | undefined;
  /** --rate (iterations per second) with --duration: constant arrival rate. */
  rate?: number | undefined;
  duration?: string | undefined;
  /** --rate-stages "10s:50,30s:200": ramping arrival rate (per second). */
  rateStages?: string | undefined;
  preAllocatedVus?: number | undefined;
  maxVus?: number | undefined;
  thinkTimeSeconds?: number | undefined;
  coolDownSeconds?: number | undefined;
}

/** The profile with the CLI's overrides applied (validated again, so bad flags fail early). */
export function applyOverrides(profile: LoadProfile, overrides: ProfileOverrides): LoadProfile {
  const arrival = arrivalOverride(profile, overrides);
  const next: LoadProfile = {
    ...profile,
    ...(arrival ? { arrival } : {}),
    ...(overrides.stages !== undefined ? { stages: parseStages(overrides.stages) } : {}),
    ...(overrides.thinkTimeSeconds !== undefined ? { thinkTimeSeconds: overrides.thinkTimeSeconds } : {}),
    ...(overrides.coolDownSeconds !== undefined ? { coolDownSeconds: overrides.coolDownSeconds } : {}),
  };
  return parseProfile(next, 'load profile with overrides');
}

/** The pool sizes --rate uses when the profile has no arrival block (k6's usual starting point). */
export const DEFAULT_POOL = { timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 200 } as const;

/** "10s:50,30s:200" → rate stages (iterations per second). */
export function parseRateStages(spec: string): RateStage[] {
  return spec.split(',').map((part) => {
    const [duration, target, ...rest] = part.trim().split(':');
    if (duration === undefined || target === undefined || rest.length > 0 || !/^\d+(\.\d+)?$/.test(target)) {
      throw new ProfileError(`invalid rate stage "${part.trim()}" (expected <duration>:<rate per second>, e.g. 10s:50)`);
    }
    parseDurationMs(duration);
    return { duration, target: Number(target) };
  });
}

function arrivalOverride(profile: LoadProfile, o: ProfileOverrides): Arrival | undefined {
  const flagged = o.rate !== undefined || o.rateStages !== undefined || o.duration !== undefined;
  if (!flagged && o.preAllocatedVus === undefined && o.maxVus === undefined) return undefined;
  const base: Arrival = profile.arrival ?? { ...DEFAULT_POOL };
  const pool = {
    preAllocatedVUs: o.preAllocatedVus ?? base.preAllocatedVUs,
    maxVUs: o.maxVus ?? Math.max(base.maxVUs, o.preAllocatedVus ?? 0),
  };
  // A rate from the flags replaces the profile's schedule; the flags speak per second.
  if (o.rate !== undefined || o.rateStages !== undefined) {
    const schedule =
      o.rateStages !== undefined
        ? { stages: parseRateStages(o.rateStages), startRate: 0 }
        : { rate: o.rate ?? 0, duration: o.duration ?? (base.rate !== undefined ? base.duration : undefined) };
    if ('duration' in schedule && schedule.duration === undefined) {
      throw new ProfileError('--rate needs --duration (e.g. --rate 100/s --duration 30s)');
    }
    return { timeUnit: '1s', ...pool, ...schedule } as Arrival;
  }
  if (o.duration !== undefined && base.rate === undefined)
    throw new ProfileError('--duration goes with --rate (e.g. --rate 100/s --duration 30s)');
  return { ...base, ...pool, ...(o.duration !== undefined ? { duration: o.duration } : {}) };
}
