/**
 * Helpers for end-to-end suites that drive the real `bin/nanofaas` (built dist/) against real
 * processes. Shared by the local up/invoke/down suite and the loadtest/report suite.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { isAlive, killGroup } from '../../src/util/process.js';
import { ROOT_DIR } from '../../src/util/paths.js';

export const BIN = join(ROOT_DIR, 'bin', 'nanofaas');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throw-away state directory; `cleanup` stops anything left in it, then deletes it. */
export interface E2EEnv {
  stateDir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export function createE2EEnv(prefix = 'nanofaas-e2e-'): E2EEnv {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NANOFAAS_STATE_DIR: stateDir,
    NANOFAAS_TARGET: 'local',
    // Never take the well-known ports of a developer's running instance.
    NANOFAAS_PORT: '0',
    NANOFAAS_MANAGEMENT_PORT: '0',
    NANOFAAS_PROMETHEUS_PORT: '0',
    NO_COLOR: '1',
  };
  delete env.NANOFAAS_URL;
  return {
    stateDir,
    env,
    async cleanup() {
      await nanofaas(['down'], { env, timeoutMs: 60_000 }).catch(() => undefined);
      for (const leftover of findOwnedProcesses(stateDir)) killGroup(leftover.pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Run bin/nanofaas with argv (no shell) and capture everything. */
export function nanofaas(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT_DIR, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nanofaas ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Run with --json and parse the one document it prints. */
export async function nanofaasJson<T = Record<string, unknown>>(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<{ code: number; doc: T; stderr: string }> {
  const r = await nanofaas(['--json', ...args], options);
  try {
    return { code: r.code, doc: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`nanofaas --json ${args.join(' ')} printed non-JSON (exit ${r.code}):\n${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export interface UpDocument {
  ok: boolean;
  target: string;
  endpoints: { apiUrl: string; managementUrl: string; prometheusUrl?: string } | null;
  functions: {
    name: string;
    runtime: string;
    registration?: string;
    smoke?: { ok: boolean; ms: number; message?: string };
    skipped?: string;
  }[];
  error?: { step: string; message: string; logTail: string[] };
}

/** `nanofaas up` on the local target with free ports; throws with the step error on failure. */
export async function upLocal(e: E2EEnv, extraArgs: readonly string[] = []): Promise<UpDocument> {
  const { code, doc, stderr } = await nanofaasJson<UpDocument>(['up', '--skip-build', ...extraArgs], { env: e.env, timeoutMs: 180_000 });
  if (code !== 0 || !doc.ok) throw new Error(`nanofaas up failed (exit ${code}): ${JSON.stringify(doc.error ?? doc, null, 2)}\n${stderr}`);
  return doc;
}

/** Every pid this state directory's deployment recorded or spawned (control plane, Prometheus, runtimes). */
export function deploymentPids(stateDir: string, recorded: readonly number[] = []): number[] {
  return [...new Set([...recorded, ...findOwnedProcesses(stateDir).map((p) => p.pid)])];
}

export function alive(pids: readonly number[]): number[] {
  return pids.filter((pid) => isAlive(pid));
}

/** Pids of the components `up` recorded in <state>/pids/<component>.json (absent ones skipped). */
export function recordedPids(stateDir: string, components: readonly string[] = ['control-plane', 'prometheus']): number[] {
  return components.flatMap((c) => {
    try {
      return [(JSON.parse(readFileSync(join(stateDir, 'pids', `${c}.json`), 'utf8')) as { pid: number }).pid];
    } catch {
      return [];
    }
  });
}
