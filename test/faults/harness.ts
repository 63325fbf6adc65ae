/**
 * The fault suite's harness: a real control plane (`node control-plane/dist/main.js`, default
 * process backend) on a state directory named after the run's marker, short grace periods so a
 * stop takes well under a second, and the few API calls the scenarios share.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, until, type RunningControlPlane } from '../control-plane/helpers.js';
import { killMarked, type Marker } from './marked-processes.js';

export const RECORDER = 'test/faults/fixtures/recorder.mjs';

/** Grace periods short enough that every stop in the suite ends within about a second. */
export const FAULT_ENV: Record<string, string> = {
  NANOFAAS_SHUTDOWN_GRACE_MS: '400',
  NANOFAAS_PROCESS_STOP_GRACE_MS: '400',
  NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: '15000',
};

export function markedStateDir(marker: Marker): string {
  return mkdtempSync(join(tmpdir(), `${marker.tag}-state-`));
}

/** A directory a function running as `nobody` can write its run records into. */
export function recordDir(marker: Marker): string {
  const dir = mkdtempSync(join(tmpdir(), `${marker.tag}-runs-`));
  chmodSync(dir, 0o777);
  return dir;
}

export function startFaultControlPlane(stateDir: string, env: Record<string, string> = {}): Promise<RunningControlPlane> {
  return startControlPlane({ ...FAULT_ENV, ...env }, stateDir);
}

/** Everything one test file started, torn down in afterAll whatever happened. */
export class Cleanup {
  private readonly planes: RunningControlPlane[] = [];
  private readonly dirs: string[] = [];

  constructor(private readonly markers: Marker[]) {}

  plane(cp: RunningControlPlane): RunningControlPlane {
    this.planes.push(cp);
    return cp;
  }

  dir(path: string): string {
    this.dirs.push(path);
    return path;
  }

  async run(): Promise<void> {
    for (const cp of this.planes) {
      if (cp.child.exitCode === null && cp.child.signalCode === null) cp.child.kill('SIGKILL');
      await cp.exited;
    }
    for (const marker of this.markers) killMarked(marker);
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  body: any;
  ms: number;
}

/** One API call with a client-side bound: a call that does not answer within `withinMs` throws "hung". */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  withinMs = 20_000,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const started = performance.now();
  const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(withinMs) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${base}${path}`, init);
    text = await response.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`${method} ${path} hung: no answer within ${withinMs} ms`);
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    body: parsed,
    ms: performance.now() - started,
  };
}

/** An error answer in the platform's format: JSON `{error: UPPER_CASE, message}`. */
export function isFormattedError(reply: Reply): boolean {
  return (
    reply.contentType.includes('application/json') &&
    typeof reply.body?.error === 'string' &&
    /^[A-Z][A-Z0-9_]*$/.test(reply.body.error) &&
    typeof reply.body?.message === 'string'
  );
}

export async function register(base: string, spec: Record<string, unknown>): Promise<void> {
  const reply = await api(base, 'POST', '/v1/functions', spec);
  if (reply.status !== 201) throw new Error(`registering ${String(spec.name)} answered ${reply.status}: ${reply.text}`);
}

/**
 * Until the function reports every replica ready. The API has no readiness event, so this polls
 * its status with a bound (15 s covers a cold node start on a loaded 2-core machine).
 */
export async function waitReady(base: string, name: string, timeoutMs = 15_000): Promise<any> {
  return until(
    async () => {
      const reply = await api(base, 'GET', `/v1/functions/${name}`);
      const status = reply.body?.status;
      return status?.state === 'READY' && status.readyReplicas >= 1 ? status : undefined;
    },
    timeoutMs,
    `function ${name} to be READY`,
  );
}

const TERMINAL = new Set(['success', 'error', 'timeout']);

/** Long-polls an execution until it is terminal (each poll ≤ 10 s), failing after `timeoutMs`. */
export async function awaitTerminal(base: string, id: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`execution ${id} did not end within ${timeoutMs} ms`);
    const waitMs = Math.min(10_000, left);
    const reply = await api(base, 'GET', `/v1/executions/${id}?waitMs=${waitMs}`, undefined, waitMs + 5_000);
    if (reply.status !== 200) throw new Error(`GET execution ${id} answered ${reply.status}: ${reply.text}`);
    if (TERMINAL.has(reply.body?.status)) return reply.body;
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time; results in order. */
export async function inPool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** The value of one function-labelled sample of the control plane's Prometheus text. */
export async function metric(managementUrl: string, name: string, fn: string): Promise<number | undefined> {
  const reply = await api(managementUrl, 'GET', '/metrics');
  const line = reply.text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`function="${fn}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
