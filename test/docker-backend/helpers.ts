/**
 * The docker backend suites' helpers: the `docker` CLI (argv, never a shell) for what the tests
 * check independently of the backend, a unique owner per test file, and a control plane started
 * on the docker backend with that owner. Everything labelled with the owner is removed at the end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startControlPlane, type RunningControlPlane } from '../control-plane/helpers.js';

const run = promisify(execFile);

export const NODE_IMAGE = 'nanofaas/word-stats-node:0.1.0';
export const PYTHON_IMAGE = 'nanofaas/word-stats-python:0.1.0';

let owners = 0;
/** An owner label no other test file (or earlier run) uses. */
export function uniqueOwner(): string {
  return `test-${process.pid}-${++owners}-${Date.now().toString(36)}`;
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Fails with one line saying how to get the image; a missing image is never a skipped test. */
export async function requireImages(...refs: string[]): Promise<void> {
  for (const ref of refs) {
    try {
      await docker('image', 'inspect', '--format', '{{.Id}}', ref);
    } catch {
      throw new Error(`image ${ref} is missing: run \`npm run images:build\``);
    }
  }
}

/** Names of every container (running or not) with this owner label, sorted. */
export async function ownedContainers(owner: string, extraLabel?: string): Promise<string[]> {
  const filters = ['--filter', `label=dev.nanofaas.owner=${owner}`, ...(extraLabel ? ['--filter', `label=${extraLabel}`] : [])];
  const out = await docker('ps', '-a', ...filters, '--format', '{{.Names}}');
  return out.split('\n').filter(Boolean).sort();
}

export async function removeOwned(owner: string): Promise<void> {
  const ids = (await docker('ps', '-aq', '--filter', `label=dev.nanofaas.owner=${owner}`)).split('\n').filter(Boolean);
  if (ids.length > 0) await docker('rm', '-f', ...ids);
}

export interface Inspected {
  Id: string;
  Name: string;
  State: { Running: boolean; Status: string; ExitCode: number };
  Config: { User: string; Env: string[]; Labels: Record<string, string>; Image: string };
  HostConfig: {
    NetworkMode: string;
    ReadonlyRootfs: boolean;
    Tmpfs: Record<string, string> | null;
    CapDrop: string[] | null;
    SecurityOpt: string[] | null;
    Memory: number;
    CpuShares: number;
  };
}

export async function inspect(nameOrId: string): Promise<Inspected> {
  return (JSON.parse(await docker('inspect', nameOrId)) as Inspected[])[0] as Inspected;
}

/** A control plane on the docker backend: short grace periods, so every stop takes about a second. */
export function startDockerControlPlane(owner: string, env: Record<string, string> = {}): Promise<RunningControlPlane> {
  return startControlPlane({
    NANOFAAS_WORKLOAD_BACKEND: 'docker',
    NANOFAAS_DOCKER_OWNER: owner,
    NANOFAAS_DOCKER_STOP_GRACE_MS: '1000',
    NANOFAAS_SHUTDOWN_GRACE_MS: '1000',
    NANOFAAS_LOG_LEVEL: 'info',
    ...env,
  });
}
