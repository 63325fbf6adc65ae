import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Arrival, Stage, Thresholds } from './profile.js';

/**
 * `<results>/run.json`: how a whole `loadtest` run was made. `loadtest` writes it, `report`
 * reads it to show the settings at the top and to tell whether a baseline is comparable.
 * Both sides use this one schema.
 */
export const RUN_FILE = 'run.json';

export const RunFunction = Type.Object({
  name: Type.String(),
  runtime: Type.String(),
  workload: Type.String(),
  /** The image the control plane runs it from, when its spec names one: the runtime's build. */
  image: Type.Optional(Type.String()),
});
export type RunFunction = Static<typeof RunFunction>;

export const RunFile = Type.Object({
  schemaVersion: Type.Literal(1),
  engine: Type.Union([Type.Literal('builtin'), Type.Literal('k6')]),
  mode: Type.Union([Type.Literal('sync'), Type.Literal('async')]),
  /** The VU ramp the run followed (the profile's, or --stages). */
  stages: Type.Array(Stage),
  /** Open model (--rate, --rate-stages, or the profile's rate): the arrival schedule the run followed instead of the stages. */
  arrival: Type.Optional(Arrival),
  /** --find-max: how the search ran (its per-step figures are in find-max.json). */
  findMax: Type.Optional(
    Type.Object({ slo: Type.String(), stepDurationSeconds: Type.Number(), startRate: Type.Number(), maxRate: Type.Number() }),
  ),
  thinkTimeSeconds: Type.Number({ minimum: 0 }),
  coolDownSeconds: Type.Number({ minimum: 0 }),
  /** Per runtime of the loaded functions: the limits each was judged by. */
  thresholds: Type.Record(Type.String(), Thresholds),
  target: Type.Object({
    name: Type.String(),
    apiUrl: Type.String(),
    /** Every control-plane replica's API the load was spread over (`up --replicas N`; both engines). */
    replicaApiUrls: Type.Optional(Type.Array(Type.String())),
  }),
  functions: Type.Array(RunFunction),
  nanofaas: Type.Object({
    version: Type.String(),
    /** `git rev-parse HEAD` of the checkout the CLI ran from; absent outside a git checkout. */
    commit: Type.Optional(Type.String()),
  }),
  versions: Type.Object({
    /** The Node.js that ran the CLI (and so the built-in engine). */
    node: Type.String(),
    /** `k6 version`, when k6 was the engine. */
    k6: Type.Optional(Type.String()),
  }),
  host: Type.Object({
    cpus: Type.Integer({ minimum: 0 }),
    cpuModel: Type.String(),
    platform: Type.String(),
    arch: Type.String(),
  }),
  start: Type.String(),
  end: Type.String(),
  /** Stopped by Ctrl-C before every function ran. */
  interrupted: Type.Optional(Type.Boolean()),
});
export type RunFile = Static<typeof RunFile>;

export function runFilePath(dir: string): string {
  return join(dir, RUN_FILE);
}

export function writeRunFile(dir: string, run: RunFile): string {
  mkdirSync(dir, { recursive: true });
  const path = runFilePath(dir);
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`);
  return path;
}

export class RunFileError extends Error {
  override name = 'RunFileError';
}

/** The run.json of a results directory; undefined when there is none (older runs, bare k6 exports). */
export function readRunFile(dir: string): RunFile | undefined {
  const path = runFilePath(dir);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RunFileError(`${path}: corrupt run file, not valid JSON (${(error as Error).message})`);
  }
  if (!Value.Check(RunFile, raw)) {
    const first = Value.Errors(RunFile, raw).First();
    throw new RunFileError(`${path}: corrupt run file, ${first ? `${first.path || '/'} ${first.message}` : 'not a run description'}`);
  }
  return raw;
}
