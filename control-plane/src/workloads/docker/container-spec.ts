/**
 * One replica's container: FunctionSpec + replica index + port → the Engine's create options.
 * Pure, so every setting below is checked by a unit test rather than by reading docker inspect.
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { FunctionSpec } from '../../contracts/index.js';
import { containerEnv } from '../kubernetes/manifests.js';
import { DockerBackendError } from './errors.js';
import { cpuShares, memoryBytes } from './resources.js';

export const LABEL = {
  owner: 'dev.nanofaas.owner',
  component: 'dev.nanofaas.component',
  function: 'dev.nanofaas.function',
  replica: 'dev.nanofaas.replica',
} as const;

/** Scratch space on the read-only root filesystem (runtimes, watchdog FILE mode, JVM perf data). */
export const TMPFS_OPTIONS = 'rw,noexec,nosuid,nodev,size=64m';
/** Enough threads for a JVM under load; a fork bomb stops here instead of at the host's limit. */
export const PIDS_LIMIT = 4096;

export interface ContainerContext {
  /** NANOFAAS_DOCKER_OWNER. */
  owner: string;
  index: number;
  /** The free 127.0.0.1 port this run listens on (host networking). */
  port: number;
  /** uid[:gid], never root (config.ts checks it). */
  user: string;
  /** Base URL for CALLBACK_URL (…/v1/internal/executions); omitted when callbacks are off. */
  callbackBaseUrl?: string;
  /** The function's callback credential (CALLBACK_TOKEN); undefined when the API needs no token. */
  callbackToken?: (functionName: string) => string | undefined;
}

export function containerName(owner: string, functionName: string, index: number): string {
  return `nanofaas-${owner}-fn-${functionName}-${index}`;
}

export function ownerLabels(owner: string): Record<string, string> {
  return { [LABEL.owner]: owner, [LABEL.component]: 'function' };
}

/** Throws VALIDATION_ERROR for a spec no container can be made of, before anything is created. */
export function containerSpec(spec: FunctionSpec, ctx: ContainerContext): ContainerCreateOptions {
  if (!spec.image) {
    throw new DockerBackendError(
      'VALIDATION_ERROR',
      `function ${spec.name} has no image: the docker backend runs every function from an image`,
      0,
    );
  }
  // The function env of the kubernetes backend, on this replica's port; HOST is ours too: with host
  // networking a runtime bound to 0.0.0.0 would be reachable from other machines.
  const env = containerEnv(spec, {
    namespace: '',
    ...(ctx.callbackBaseUrl ? { callbackBaseUrl: ctx.callbackBaseUrl } : {}),
    ...(ctx.callbackToken ? { callbackToken: ctx.callbackToken } : {}),
  })
    .filter((e) => e.name !== 'PORT' && e.name !== 'HOST')
    .map((e) => `${e.name}=${e.value ?? ''}`);
  env.push(`PORT=${ctx.port}`, 'HOST=127.0.0.1');

  const { cpu, memory } = spec.resources ?? {};
  const memoryLimit = memory ? memoryBytes(spec.name, memory) : undefined;
  const httpCommand = spec.runtimeMode === 'HTTP' && spec.command && spec.command.length > 0 ? spec.command : undefined;
  return {
    name: containerName(ctx.owner, spec.name, ctx.index),
    Image: spec.image,
    // As a pod's `command`: replaces the image's entrypoint, and its CMD with it.
    ...(httpCommand ? { Entrypoint: httpCommand } : {}),
    Env: env,
    User: ctx.user,
    Labels: {
      ...ownerLabels(ctx.owner),
      [LABEL.function]: spec.name,
      [LABEL.replica]: String(ctx.index),
    },
    StopSignal: 'SIGTERM',
    HostConfig: {
      NetworkMode: 'host',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': TMPFS_OPTIONS },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: PIDS_LIMIT,
      // The backend restarts a replica itself (new port, readiness, back-off, restart count).
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      ...(memoryLimit !== undefined ? { Memory: memoryLimit, MemorySwap: memoryLimit } : {}),
      ...(cpu ? { CpuShares: cpuShares(spec.name, cpu) } : {}),
    },
  };
}
