/**
 * Shared by the conformance suites and bench/runtimes.ts: the catalog, the vectors, and starting a
 * real runtime process exactly the way the process backend does (runtimes/<runtime>/launch.json
 * through resolveLaunch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
// Types only: bench/runtimes.ts runs this file under tsx without the `source` condition.
import type { Catalog, CatalogFunction, Vector } from '../../src/util/catalog.js';
import {
  assertRequirements,
  loadLaunchDescriptor,
  operatorSettingsFromEnv,
  resolveLaunch,
} from '../../control-plane/src/workloads/process/launch.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type { CatalogFunction, Vector };

export function loadCatalog(): Catalog {
  return JSON.parse(readFileSync(path.join(repoRoot, 'functions/catalog.json'), 'utf8')) as Catalog;
}

export function loadVectors(workload: string): Vector[] {
  const file = loadCatalog().workloads[workload]?.vectors;
  if (!file) throw new Error(`functions/catalog.json has no vectors for workload "${workload}"`);
  return JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as Vector[];
}

export interface Fixtures {
  slow: string;
  crash: string;
}

export function loadFixtures(runtime: string): Fixtures {
  const all = JSON.parse(readFileSync(path.join(repoRoot, 'test/conformance/fixtures/fixtures.json'), 'utf8')) as Record<string, Fixtures>;
  const fixtures = all[runtime];
  if (!fixtures) throw new Error(`test/conformance/fixtures/fixtures.json has no slow/crash handlers for runtime "${runtime}"`);
  return fixtures;
}

/** A resolved spec as the control plane would hold it. */
export function specFor(
  fn: Pick<CatalogFunction, 'name' | 'runtime' | 'handler' | 'spec'>,
  overrides: Partial<FunctionSpec> = {},
): FunctionSpec {
  return {
    name: fn.name,
    runtime: fn.runtime,
    handler: fn.handler,
    timeoutMs: 30_000,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 3,
    runtimeMode: 'HTTP',
    executionMode: 'LOCAL',
    replicas: 1,
    ...fn.spec,
    ...overrides,
  } as FunctionSpec;
}

export interface RunningRuntime {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Launch one runtime process on a free loopback port and wait for GET /health 200.
 * A missing toolchain throws (the suite fails, it never skips).
 */
export async function startRuntime(
  spec: FunctionSpec,
  extraEnv: Record<string, string> = {},
  readyTimeoutMs = 30_000,
): Promise<RunningRuntime> {
  const port = await getPort({ host: '127.0.0.1' });
  const descriptor = await loadLaunchDescriptor(repoRoot, spec.runtime!);
  const launch = resolveLaunch(descriptor, spec, {
    port,
    rootDir: repoRoot,
    hostEnv: process.env,
    operator: operatorSettingsFromEnv(process.env),
    backendEnv: extraEnv,
  });
  await assertRequirements(launch, spec.name);
  const child = spawn(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const running: RunningRuntime = {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitForHealth(url, child, readyTimeoutMs);
  } catch (err) {
    await running.stop();
    throw new Error(
      `${spec.name} (${launch.command} ${launch.args.join(' ')}) did not become healthy: ${(err as Error).message}\n${output.slice(-2000)}`,
    );
  }
  return running;
}

/** Startup only: poll /health with a growing delay until 200, the process exits, or time runs out. */
export async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no 200 from /health within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** The first-seen order of `groups` (json-transform) survives JSON.parse for non-integer keys. */
export function groupKeyOrder(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const groups = (value as { groups?: unknown }).groups;
  return typeof groups === 'object' && groups !== null ? Object.keys(groups) : undefined;
}
