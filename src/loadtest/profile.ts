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

export const LoadProfile = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    stages: Type.Array(Stage, { minItems: 1 }),
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
  if (Value.Check(LoadProfile, raw)) return raw;
  const first = Value.Errors(LoadProfile, raw).First();
  const where = first?.path === '' || first === undefined ? '' : ` at ${first.path}`;
  throw new ProfileError(`${source}: invalid load profile${where}: ${first?.message ?? 'unknown error'}`);
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
  thinkTimeSeconds?: number | undefined;
  coolDownSeconds?: number | undefined;
}

/** The profile with the CLI's overrides applied (validated again, so bad flags fail early). */
export function applyOverrides(profile: LoadProfile, overrides: ProfileOverrides): LoadProfile {
  const next: LoadProfile = {
    ...profile,
    ...(overrides.stages !== undefined ? { stages: parseStages(overrides.stages) } : {}),
    ...(overrides.thinkTimeSeconds !== undefined ? { thinkTimeSeconds: overrides.thinkTimeSeconds } : {}),
    ...(overrides.coolDownSeconds !== undefined ? { coolDownSeconds: overrides.coolDownSeconds } : {}),
  };
  return parseProfile(next, 'load profile with overrides');
}
