import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { FunctionSpec } from '@nanofaas/control-plane/contracts';
import { runCommand } from '../util/process.js';
import type { CatalogEntry } from './catalog.js';
import type { LoadMode } from './engine.js';
import { isOpenModel, thresholdsFor, type LoadProfile, type Thresholds } from './profile.js';
import type { SearchSettings } from './find-max.js';
import type { RunFile, RunFunction } from './run-info.js';

/** A probe that has not answered by then is left out: run.json never holds up a load test. */
const PROBE_TIMEOUT_MS = 5_000;

/** `git rev-parse HEAD` of the checkout at `rootDir`; undefined outside a checkout or without git. */
export async function gitCommit(rootDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const result = await runCommand('git', ['rev-parse', 'HEAD'], { cwd: rootDir, env, timeoutMs: PROBE_TIMEOUT_MS });
  const commit = result.stdout.trim();
  return result.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(commit) ? commit : undefined;
}

/** The first line of `k6 version` without its "k6 " prefix, e.g. "v0.49.0 (go1.21.6, linux/amd64)". */
export async function k6Version(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const result = await runCommand('k6', ['version'], { env, timeoutMs: PROBE_TIMEOUT_MS });
  const line = result.stdout.split('\n')[0]?.trim() ?? '';
  return result.exitCode === 0 && line !== '' ? line.replace(/^k6\s+/, '') : undefined;
}

export function nanofaasVersion(rootDir: string): string {
  try {
    return (JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function hostInfo(): RunFile['host'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() || 'unknown',
    platform: process.platform,
    arch: process.arch,
  };
}

/** The answers that take a program to learn, started before the load so they cost it nothing. */
export interface RunProbes {
  commit: Promise<string | undefined>;
  k6: Promise<string | undefined>;
}

export function startProbes(rootDir: string, env: NodeJS.ProcessEnv, engine: 'builtin' | 'k6'): RunProbes {
  return {
    commit: gitCommit(rootDir, env).catch(() => undefined),
    k6: engine === 'k6' ? k6Version(env).catch(() => undefined) : Promise.resolve(undefined),
  };
}

export interface RunDescription {
  rootDir: string;
  engine: 'builtin' | 'k6';
  mode: LoadMode;
  profile: LoadProfile;
  findMax?: SearchSettings | undefined;
  target: { name: string; apiUrl: string; replicaApiUrls?: string[] };
  selected: readonly CatalogEntry[];
  /** The control plane's specs of the registered functions (for each one's image). */
  registered?: readonly FunctionSpec[] | undefined;
  start: Date;
  end: Date;
  interrupted: boolean;
}

/** Everything run.json records, from what the run already knows plus the probes' answers. */
export async function describeRun(run: RunDescription, probes: RunProbes): Promise<RunFile> {
  const [commit, k6] = await Promise.all([probes.commit, probes.k6]);
  const thresholds: Record<string, Thresholds> = {};
  for (const fn of run.selected) {
    try {
      thresholds[fn.runtime] = thresholdsFor(run.profile, fn.runtime);
    } catch {
      // A runtime without limits was refused before the load; nothing to record for it.
    }
  }
  const functions = run.selected.map((fn): RunFunction => {
    const image = run.registered?.find((spec) => spec.name === fn.name)?.image;
    return { name: fn.name, runtime: fn.runtime, workload: fn.workload, ...(image ? { image } : {}) };
  });
  return {
    schemaVersion: 1,
    engine: run.engine,
    mode: run.mode,
    stages: run.profile.stages,
    ...(isOpenModel(run.profile) && run.profile.arrival ? { arrival: run.profile.arrival } : {}),
    ...(run.findMax
      ? {
          findMax: {
            slo: run.findMax.slo.expression,
            stepDurationSeconds: run.findMax.stepDurationMs / 1000,
            startRate: run.findMax.startRate,
            maxRate: run.findMax.maxRate,
          },
        }
      : {}),
    thinkTimeSeconds: run.profile.thinkTimeSeconds,
    coolDownSeconds: run.profile.coolDownSeconds,
    thresholds,
    target: run.target,
    functions,
    nanofaas: { version: nanofaasVersion(run.rootDir), ...(commit ? { commit } : {}) },
    versions: { node: process.version, ...(k6 ? { k6 } : {}) },
    host: hostInfo(),
    start: run.start.toISOString(),
    end: run.end.toISOString(),
    ...(run.interrupted ? { interrupted: true } : {}),
  };
}
