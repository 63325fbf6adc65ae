import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import type { BackendLogger, WorkloadBackend } from '../../control-plane/src/workloads/backend.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/runtime.mjs', import.meta.url));

export const silentLogger: BackendLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A temp repo root whose runtimes/node/launch.json starts the fixture runtime with the current node.
 * World-readable (mkdtemp makes 0700): as root, the backend runs functions as `nobody`.
 */
export async function makeFixtureRoot(requires: Array<{ bin: string; hint?: string }> = []): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'nf-process-'));
  await chmod(root, 0o755);
  await mkdir(path.join(root, 'runtimes', 'node'), { recursive: true });
  const descriptor = { command: [process.execPath, FIXTURE, '${handler}'], env: { GREETING: 'from-descriptor' }, requires };
  await writeFile(path.join(root, 'runtimes', 'node', 'launch.json'), JSON.stringify(descriptor));
  return root;
}

export function fixtureSpec(name: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    timeoutMs: 5000,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 3,
    runtimeMode: 'HTTP',
    executionMode: 'LOCAL',
    replicas: 1,
    runtime: 'node',
    handler: 'handlers/echo.js',
    ...overrides,
  };
}

export interface FixtureOutput {
  input: unknown;
  pid: number;
  grandchildPid?: number;
  handler: string;
  cwd: string;
  /** The runtime's whole environment. */
  env: Record<string, string | undefined>;
  uid: number;
  gid: number;
  stdinIsPipe: boolean;
}

/** A temp directory any user may write to (fixtures running as `nobody` record pids in it). */
export async function sharedTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o1777);
  return dir;
}

export async function invoke(baseUrl: string, input: unknown): Promise<FixtureOutput> {
  const res = await request(`${baseUrl}/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input, metadata: {} }),
  });
  if (res.statusCode !== 200) throw new Error(`invoke answered ${res.statusCode}`);
  return (await res.body.json()) as FixtureOutput;
}

/** Invoke every ready endpoint of a function and return the runtime pids. */
export async function readyPids(backend: WorkloadBackend, name: string): Promise<number[]> {
  const ready = backend.endpoints(name).filter((e) => e.ready);
  const outputs = await Promise.all(ready.map((e) => invoke(e.url, null)));
  return outputs.map((o) => o.pid).sort((a, b) => a - b);
}

/** Running and not a zombie (a reparented, killed grandchild may linger as one until reaped). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves when `predicate` holds, re-checking on every backend change event. */
export function waitFor(backend: WorkloadBackend, predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = backend.onChange(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Pids a fixture recorded through FIXTURE_PID_FILE. */
export async function recordedPids(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** Waits until a pid is gone (for processes the kernel reaps asynchronously, e.g. grandchildren). */
export async function waitGone(pid: number, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
