import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '@nanofaas/control-plane/config';
import { UsageError } from '../../cli/errors.js';
import { apiToken } from '../../config/env.js';
import type { StateDir } from '../../state/state-dir.js';
import { StepFailure } from '../../pipeline/step.js';
import { runCommand } from '../../util/process.js';
import { httpStatus } from '../local/control-plane.js';
import { DOCKER, docker, dockerLine } from './engine.js';
import {
  API_PORT_LABEL,
  COMPONENT_LABEL,
  CONFIG_LABEL,
  controlPlaneName,
  MANAGEMENT_PORT_LABEL,
  OWNER_LABEL,
  ownerId,
  STATE_IN_CONTAINER,
  stateVolumeName,
} from './owner.js';

/** Where the engine socket is mounted in the control plane's container (the docker backend's default). */
const SOCKET_IN_CONTAINER = '/var/run/docker.sock';
/** The image's own uid (`node`) is not used: the platform's containers all run as this one. */
const CONTAINER_USER = '10001:10001';

/**
 * Variables of the CLI's environment that configure the control plane and mean the same inside
 * its container. Host paths, ports, the backend and whatever this target decides are not passed.
 */
const NOT_FORWARDED = new Set([
  'NANOFAAS_TARGET',
  'NANOFAAS_URL',
  'NANOFAAS_STATE_DIR',
  'NANOFAAS_HOST',
  'NANOFAAS_PORT',
  'NANOFAAS_MANAGEMENT_PORT',
  'NANOFAAS_PROMETHEUS_PORT',
  'NANOFAAS_WORKLOAD_BACKEND',
  'NANOFAAS_DOCKER_OWNER',
  'NANOFAAS_DOCKER_SOCKET',
  'NANOFAAS_API_TOKEN',
  'NANOFAAS_API_TOKEN_FILE',
  'NANOFAAS_ROOT_DIR',
  'NANOFAAS_PYTHON',
  'NANOFAAS_JAVA',
  'NANOFAAS_FUNCTION_USER',
  'NANOFAAS_NAMESPACE',
  'NANOFAAS_KUBE_CONTEXT',
  'NANOFAAS_REGISTRY',
  'NANOFAAS_OWNER_STATE_DIR',
]);

/**
 * The environment the control plane's container gets from the CLI's: the forwardable NANOFAAS_*
 * settings, and the API token (read from NANOFAAS_API_TOKEN_FILE when that is how it is given,
 * since the file is a host path). Passed to `docker run` as `-e NAME` with the value in the docker
 * CLI's own environment, so no value, the token least of all, appears in an argv or a plan.
 */
export function forwardedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('NANOFAAS_') && !NOT_FORWARDED.has(name) && value !== undefined && value.trim() !== '') out[name] = value;
  }
  const token = apiToken(env);
  if (token) out.NANOFAAS_API_TOKEN = token;
  return out;
}

/**
 * The control plane's own parser on the environment its container will get, so a malformed
 * setting is a usage error before `up` builds or starts anything (as on the local target).
 */
export function checkContainerEnv(env: NodeJS.ProcessEnv, state: StateDir): void {
  try {
    loadConfig({
      ...forwardedEnv(env),
      NANOFAAS_WORKLOAD_BACKEND: 'docker',
      NANOFAAS_DOCKER_OWNER: ownerId(state.path),
      NANOFAAS_STATE_DIR: STATE_IN_CONTAINER,
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

export interface ControlPlaneRun {
  owner: string;
  image: string;
  socket: string;
  socketGid: number | string;
  ports: { api: number | string; management: number | string };
  /** Names of the forwarded variables (their values travel in the docker CLI's environment). */
  forwarded: readonly string[];
}

/** `docker run` arguments (after `docker`) of the control plane's container, without the config label. */
export function controlPlaneRunArgs(run: ControlPlaneRun): string[] {
  const env = {
    NANOFAAS_HOST: '127.0.0.1',
    NANOFAAS_PORT: String(run.ports.api),
    NANOFAAS_MANAGEMENT_PORT: String(run.ports.management),
    NANOFAAS_WORKLOAD_BACKEND: 'docker',
    NANOFAAS_DOCKER_OWNER: run.owner,
    // The root filesystem is read-only: the registry goes to the owner's volume, which outlives a restart.
    NANOFAAS_STATE_DIR: STATE_IN_CONTAINER,
  };
  return [
    'run',
    '-d',
    '--name',
    controlPlaneName(run.owner),
    '--label',
    `${OWNER_LABEL}=${run.owner}`,
    '--label',
    `${COMPONENT_LABEL}=control-plane`,
    '--label',
    `${API_PORT_LABEL}=${run.ports.api}`,
    '--label',
    `${MANAGEMENT_PORT_LABEL}=${run.ports.management}`,
    '--network',
    'host',
    '--read-only',
    '--tmpfs',
    '/tmp',
    '--user',
    CONTAINER_USER,
    '--group-add',
    String(run.socketGid),
    '-v',
    `${run.socket}:${SOCKET_IN_CONTAINER}`,
    '--mount',
    `type=volume,source=${stateVolumeName(run.owner)},target=${STATE_IN_CONTAINER},volume-label=${OWNER_LABEL}=${run.owner}`,
    '--restart',
    'unless-stopped',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...run.forwarded.flatMap((name) => ['-e', name]),
    run.image,
  ];
}

/**
 * What the container was started from, as one hash: its arguments, the image id, the forwarded
 * values. A warm `up` keeps a running container whose hash is the one it would start now.
 */
export function configHash(args: readonly string[], imageId: string, forwarded: Record<string, string>): string {
  const sorted = Object.keys(forwarded)
    .sort()
    .map((k) => [k, forwarded[k]]);
  return createHash('sha256')
    .update(JSON.stringify({ args, imageId, forwarded: sorted }))
    .digest('hex')
    .slice(0, 16);
}

/** With the config label, just before the image. */
export function withConfigLabel(args: readonly string[], hash: string): string[] {
  const out = [...args];
  out.splice(out.length - 1, 0, '--label', `${CONFIG_LABEL}=${hash}`);
  return out;
}

export interface ContainerState {
  id: string;
  running: boolean;
  status: string;
  imageId: string;
  labels: Record<string, string>;
  restarts: number;
}

/** `docker inspect` of one container, or undefined when there is none by that name. */
export async function inspectContainer(env: NodeJS.ProcessEnv, name: string): Promise<ContainerState | undefined> {
  const r = await docker(env, ['inspect', '--type', 'container', name]);
  if (r.exitCode !== 0) return undefined;
  const [c] = JSON.parse(r.stdout) as {
    Id: string;
    Image: string;
    RestartCount?: number;
    State: { Running: boolean; Status: string };
    Config: { Labels?: Record<string, string> | null };
  }[];
  if (!c) return undefined;
  return {
    id: c.Id,
    running: c.State.Running,
    status: c.State.Status,
    imageId: c.Image,
    labels: c.Config.Labels ?? {},
    restarts: c.RestartCount ?? 0,
  };
}

/** The local id of an image reference, or undefined when it is not there. */
export async function imageId(env: NodeJS.ProcessEnv, ref: string): Promise<string | undefined> {
  const r = await docker(env, ['image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
}

/** The last lines the container printed, for a failure message. */
export async function containerLogTail(env: NodeJS.ProcessEnv, id: string, lines = 20): Promise<string[]> {
  const r = await docker(env, ['logs', '--tail', String(lines), id], { timeoutMs: 15_000 });
  return `${r.stdout}${r.stderr}`.trimEnd().split('\n').filter(Boolean);
}

/**
 * Wait until the control plane answers /readyz, and stop waiting at once when its container exits
 * (`docker wait` returns then), the user interrupts, or `timeoutMs` passes. The readiness probe
 * is polled with a short back-off: the engine has no event for "the HTTP server is ready".
 */
export async function waitForControlPlane(
  env: NodeJS.ProcessEnv,
  id: string,
  managementPort: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const stopWaiting = new AbortController();
  const onAbort = () => stopWaiting.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let exited: string | undefined;
  const waiter = runCommand(DOCKER, ['wait', id], { env, signal: stopWaiting.signal }).then((r) => {
    if (!stopWaiting.signal.aborted) exited = `its container exited (code ${r.stdout.trim() || r.exitCode})`;
    stopWaiting.abort();
  });
  const deadline = Date.now() + options.timeoutMs;
  let delay = 50;
  let why: string | undefined;
  try {
    for (;;) {
      if ((await httpStatus(`http://127.0.0.1:${managementPort}/readyz`, 1_000)) === 200) return;
      if (exited) why = exited;
      else if (options.signal?.aborted) why = 'interrupted while the control plane was starting';
      else if (Date.now() > deadline) why = `not ready after ${Math.round(options.timeoutMs / 1000)} s`;
      if (why) break;
      // Cut short when the container exits: the loop then reports why at once.
      await sleep(delay, undefined, { signal: stopWaiting.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, 250);
    }
  } finally {
    stopWaiting.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await waiter;
  }
  throw new StepFailure(`the control plane did not become ready: ${why}`, {
    command: dockerLine(['logs', '--tail', '20', id]),
    output: await containerLogTail(env, id),
    hint: 'the container log above says why; a port in use? set --port/--management-port (0 = any free port)',
  });
}
