import { statSync } from 'node:fs';
import { runCommand, which, type RunResult } from '../../util/process.js';
import { formatArgv } from '../host/host.js';

/** The docker CLI, as every step of this target calls it (argv only, never a shell). */
export const DOCKER = 'docker';

export const START_ENGINE_HINT = 'start the engine: `sudo systemctl start docker` (or run `dockerd` as root)';

/** Run `docker <args>`; a non-zero exit is a result, not an exception. */
export function docker(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  return runCommand(DOCKER, args, { env, timeoutMs: options.timeoutMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
}

/** The display form of a docker argv, for plans and errors. */
export function dockerLine(args: readonly string[]): string {
  return formatArgv([DOCKER, ...args]);
}

export function dockerCli(env: NodeJS.ProcessEnv): string | undefined {
  return which(DOCKER, env);
}

/** The engine's unix socket on this machine: DOCKER_HOST=unix://… when set, else the default path. */
export function socketPath(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST?.trim();
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

/** The socket's owner group, which the control plane's container joins to reach the engine; undefined when it is not there. */
export function socketGroup(path: string): number | undefined {
  try {
    return statSync(path).gid;
  } catch {
    return undefined;
  }
}

/** `docker info`: the engine's version, or why it does not answer (one line). */
export async function engineVersion(env: NodeJS.ProcessEnv): Promise<{ version?: string; problem?: string }> {
  if (!dockerCli(env)) return { problem: 'the docker CLI is not installed (apt-get install docker.io, or Docker Engine)' };
  const r = await docker(env, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  const version = r.stdout.trim();
  if (r.exitCode === 0 && version) return { version };
  const why = (r.stderr || r.stdout).trim().split('\n').find(Boolean) ?? `exit ${r.exitCode}`;
  return { problem: `the Docker engine does not answer (${why})` };
}
