import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@nanofaas/control-plane/config';
import { CONTROL_PLANE_NODE_FLAGS } from '@nanofaas/control-plane/contracts';
import { request } from 'undici';
import { UsageError } from '../../cli/errors.js';
import { envValue } from '../../config/env.js';
import { StepFailure } from '../../pipeline/step.js';
import type { ProcessRecord, StateDir } from '../../state/state-dir.js';
import { tailFile, waitForLine } from '../../util/log-tail.js';
import { preferPort } from '../../util/ports.js';
import { displayCommand, isAlive } from '../../util/process.js';
import { abandonStart, startDetached, stopRecorded } from './detached-process.js';
import { isOwnedBy, OWNER_ENV, REPLICAS_DIR } from './owned-processes.js';

export const COMPONENT = 'control-plane';

/**
 * `up --replicas N`: replica 0 is the control plane as it always was (pids/control-plane.json, the
 * state dir itself, the API the CLI talks to); replica k ≥ 1 is pids/control-plane-<k>.json, logs
 * logs/control-plane-<k>.log, and runs with NANOFAAS_STATE_DIR=<state>/replicas/<k>, because its
 * process backend writes a pid registry and per-function log files that must not mix with another
 * replica's (its runtimes are its own children).
 */
export function replicaComponent(replica: number): string {
  return replica === 0 ? COMPONENT : `${COMPONENT}-${replica}`;
}

/** The NANOFAAS_STATE_DIR of control-plane replica `replica`. */
export function replicaStateDir(state: StateDir, replica: number): string {
  return replica === 0 ? state.path : state.file(REPLICAS_DIR, String(replica));
}

/** The replica numbers with a record in pids/, ascending. */
export function recordedReplicas(state: StateDir): number[] {
  let names: string[];
  try {
    names = readdirSync(state.file('pids'));
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${COMPONENT}(?:-(\\d+))?\\.json$`);
  return names
    .map((name) => pattern.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1] ?? 0))
    .sort((a, b) => a - b);
}
const DEFAULT_API_PORT = 8080;
const DEFAULT_MANAGEMENT_PORT = 8081;

export interface ListeningLine {
  apiPort: number;
  managementPort: number;
  apiUrl: string;
  managementUrl: string;
}

/** The control plane logs one JSON line with msg "listening" once both servers are up. */
export function parseListening(line: string): ListeningLine | undefined {
  if (!line.includes('listening')) return undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (obj.msg !== 'listening' || typeof obj.apiPort !== 'number' || typeof obj.managementPort !== 'number') return undefined;
  const host = '127.0.0.1';
  return {
    apiPort: obj.apiPort,
    managementPort: obj.managementPort,
    apiUrl: typeof obj.apiUrl === 'string' ? obj.apiUrl.replace(/\/$/, '') : `http://${host}:${obj.apiPort}`,
    managementUrl: typeof obj.managementUrl === 'string' ? obj.managementUrl.replace(/\/$/, '') : `http://${host}:${obj.managementPort}`,
  };
}

/** GET url → status code, or 0 when nothing answers. */
export async function httpStatus(url: string, timeoutMs = 1_500): Promise<number> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

/** The recorded control plane when its process lives and /readyz answers 200. */
export async function runningControlPlane(state: StateDir, replica = 0): Promise<ProcessRecord | undefined> {
  const record = state.process(replicaComponent(replica));
  if (!record || !isAlive(record.pid) || !record.ports || !isOwnedBy(record.pid, state.path)) return undefined;
  const ready = await httpStatus(`http://127.0.0.1:${record.ports.management}/readyz`);
  return ready === 200 ? record : undefined;
}

export interface StartOptions {
  rootDir: string;
  state: StateDir;
  env: NodeJS.ProcessEnv;
  apiPort?: number;
  managementPort?: number;
  timeoutMs?: number;
  /** Which control-plane replica (`up --replicas`); 0 unless given. */
  replica?: number;
}

/** Which ports to ask for: explicit flag, then NANOFAAS_PORT/…, then 8080/8081 if free, else any. */
export async function choosePorts(
  options: Pick<StartOptions, 'env' | 'apiPort' | 'managementPort'>,
): Promise<{ api: number; management: number; note?: string }> {
  const apiExplicit = options.apiPort ?? envValue(options.env, 'NANOFAAS_PORT');
  const mgmtExplicit = options.managementPort ?? envValue(options.env, 'NANOFAAS_MANAGEMENT_PORT');
  const api = apiExplicit ?? (await preferPort(DEFAULT_API_PORT));
  const management = mgmtExplicit ?? (await preferPort(DEFAULT_MANAGEMENT_PORT));
  const moved = [
    apiExplicit === undefined && api === 0 ? DEFAULT_API_PORT : undefined,
    mgmtExplicit === undefined && management === 0 ? DEFAULT_MANAGEMENT_PORT : undefined,
  ].filter(Boolean);
  return { api, management, ...(moved.length ? { note: `port ${moved.join(' and ')} busy, using free ports instead` } : {}) };
}

/** node, its flags for the control plane (CONTROL_PLANE_NODE_FLAGS), then the entry point last. */
export function controlPlaneCommand(rootDir: string): string[] {
  return [process.execPath, ...CONTROL_PLANE_NODE_FLAGS, join(rootDir, 'control-plane', 'dist', 'main.js')];
}

/** The control plane's environment: the CLI's own, with what the local target decides on top. */
export function controlPlaneEnv(
  env: NodeJS.ProcessEnv,
  state: StateDir,
  ports: { api: number; management: number },
  replica = 0,
): NodeJS.ProcessEnv {
  return {
    ...env,
    NANOFAAS_WORKLOAD_BACKEND: 'process',
    NANOFAAS_STATE_DIR: replicaStateDir(state, replica),
    NANOFAAS_PORT: String(ports.api),
    NANOFAAS_MANAGEMENT_PORT: String(ports.management),
    NANOFAAS_HOST: '127.0.0.1',
    [OWNER_ENV]: state.path,
  };
}

/**
 * The control plane validates its own variables (NANOFAAS_PROCESS_*, NANOFAAS_MAX_*, …) with its
 * own parser; run that parser here, on the environment it will get, so a malformed value is a
 * usage error before `up` builds or starts anything instead of a failed start with a log to read.
 */
export function checkControlPlaneEnv(env: NodeJS.ProcessEnv, state: StateDir): void {
  try {
    loadConfig(controlPlaneEnv(env, state, { api: 0, management: 0 }));
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Start the control plane detached (its own process group, output to the log file) with the
 * process backend, and resolve once it logged its "listening" line. The pid is recorded as soon
 * as the process exists, so whatever happens to this CLI from then on, `down` finds and stops it.
 * If startup fails or `signal` aborts (Ctrl-C) before it listens, it is stopped and forgotten.
 */
export async function startControlPlane(
  options: StartOptions & { signal?: AbortSignal },
  ports: { api: number; management: number },
): Promise<{ record: ProcessRecord; listening: ListeningLine }> {
  const [node, ...args] = controlPlaneCommand(options.rootDir) as [string, ...string[]];
  const entry = args.at(-1)!;
  if (!existsSync(entry)) {
    throw new StepFailure(`control plane is not built (${entry} missing)`, { hint: 'run `npm run build` (or drop --skip-build)' });
  }
  if (options.signal?.aborted) throw new StepFailure('interrupted before the control plane was started');
  const replica = options.replica ?? 0;
  const component = replicaComponent(replica);
  const env = controlPlaneEnv(options.env, options.state, ports, replica);
  const { child, log, offset, startedAt } = await startDetached(options.state, component, node, args, { env, cwd: options.rootDir });
  const command = displayCommand(node, args);
  let exited: ((reason: Error) => void) | undefined;
  void child.then((result) =>
    exited?.(
      result.exitCode === undefined && result.signal === undefined
        ? new Error(result.originalMessage)
        : new Error(`control plane exited during startup (${result.signal ?? `code ${result.exitCode}`})`),
    ),
  );
  const starting: ProcessRecord | undefined = child.pid
    ? { pid: child.pid, pgid: child.pid, command: [node, entry], log, startedAt }
    : undefined;
  if (starting) options.state.saveProcess(component, starting);
  const onAbort = () => exited?.(new Error('interrupted while the control plane was starting'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const listening = await waitForLine(log, offset, parseListening, {
      timeoutMs: options.timeoutMs ?? 30_000,
      onAbort: (abort) => {
        exited = abort;
        if (options.signal?.aborted) onAbort();
      },
    });
    const record: ProcessRecord = {
      ...starting!,
      ports: { api: listening.apiPort, management: listening.managementPort },
      url: listening.apiUrl,
    };
    options.state.saveProcess(component, record);
    return { record, listening };
  } catch (error) {
    await abandonStart(options.state, component, child.pid, 3_000);
    throw new StepFailure((error as Error).message, {
      command,
      output: tailFile(log, 15, offset),
      hint: `see ${log}; a port in use? set --port/--management-port (or 0 for any free port)`,
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export async function stopControlPlane(state: StateDir, replica = 0): Promise<boolean> {
  // SIGTERM lets the control plane drain and stop its runtimes.
  return stopRecorded(state, replicaComponent(replica), 15_000);
}
