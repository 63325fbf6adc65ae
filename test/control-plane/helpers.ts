/**
 * Test helpers: spawn the built control plane (`node control-plane/dist/main.js`) on free ports
 * with its own state directory, read its "listening" line, and call its API with fetch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MAIN = join(ROOT, 'control-plane/dist/main.js');

export interface RunningControlPlane {
  apiUrl: string;
  managementUrl: string;
  stateDir: string;
  child: ChildProcess;
  /** stdout + stderr lines so far (for assertions and failure messages). */
  output: string[];
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'nanofaas-cp-test-'));
}

export async function startControlPlane(env: Record<string, string> = {}, stateDir = tempStateDir()): Promise<RunningControlPlane> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NANOFAAS_PORT: '0',
      NANOFAAS_MANAGEMENT_PORT: '0',
      NANOFAAS_STATE_DIR: stateDir,
      NANOFAAS_RETRY_BASE_DELAY_MS: '20',
      NANOFAAS_RETRY_MAX_DELAY_MS: '200',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const listening = await new Promise<{ apiUrl: string; managementUrl: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`control plane did not start:\n${output.join('\n')}`)), 20_000);
    void exited.then((code) => rej(new Error(`control plane exited with ${code}:\n${output.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const parsed = JSON.parse(line) as { msg?: string; apiUrl?: string; managementUrl?: string };
        if (parsed.msg === 'listening' && parsed.apiUrl && parsed.managementUrl) {
          clearTimeout(timer);
          res({ apiUrl: parsed.apiUrl, managementUrl: parsed.managementUrl });
        }
      } catch {
        // a log line, not the listening line
      }
    });
  });
  return {
    ...listening,
    stateDir,
    child,
    output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Wait (event loop friendly, test-only) until `check` holds or fail after `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Poll an execution until it reaches a terminal state. */
export async function finalExecution(base: string, id: string, headers: Record<string, string> = {}): Promise<any> {
  return until(
    async () => {
      const answer = await call(base, 'GET', `/v1/executions/${id}`, undefined, headers);
      return ['success', 'error', 'timeout'].includes(answer.body?.status) ? answer.body : undefined;
    },
    15_000,
    `execution ${id} to finish`,
  );
}

/**
 * One per-function sample from the management port's /metrics (`function_queue_depth`,
 * `function_in_flight`, …); undefined while the function has no such series.
 */
export async function functionMetric(managementUrl: string, metric: string, fn: string): Promise<number | undefined> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  const prefix = `${metric}{function="${fn}"} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/**
 * Wait until the control plane itself reports a state, e.g. "2 calls queued behind the running
 * one", before acting on it: the observable state, not a guess at how long it takes to get there.
 */
export async function untilMetric(managementUrl: string, metric: string, fn: string, expected: number, timeoutMs = 10_000): Promise<void> {
  let last: number | undefined;
  await until(
    async () => {
      last = await functionMetric(managementUrl, metric, fn);
      return last === expected || undefined;
    },
    timeoutMs,
    `${metric}{function="${fn}"} to be ${expected}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last seen: ${last})`);
  });
}
