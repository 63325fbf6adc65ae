/**
 * The docker workload backend: each replica of a function is a container on the local Docker
 * Engine, with host networking on a free 127.0.0.1 port (docs/design.md §4.2). Containers carry
 * the owner label (NANOFAAS_DOCKER_OWNER); the backend only ever removes containers with it.
 * The replicas of a function form a replica set (../replica-set.ts), which keeps what the dispatcher
 * reads in memory; deaths come from one Engine event stream (events.ts), never from polling. What
 * stays here is the docker backend's own: the Engine, the sweep of leftovers, image pulls, restarts.
 */
import type { FunctionStatus } from '../../contracts/index.js';
import type { BackendOptions, WorkloadBackend } from '../backend.js';
import { createReplicaSet, type Workload as ReplicaSetWorkload } from '../replica-set.js';
import { containerName, containerSpec, ownerLabels, type ContainerContext } from './container-spec.js';
import { connectEngine, type Engine } from './engine.js';
import { DockerBackendError } from './errors.js';
import { startEventsWatcher } from './events.js';
import { startDockerReplica, type DockerReplica, type RestartPolicy } from './replica.js';

export { DockerBackendError } from './errors.js';

export interface DockerBackendTuning {
  socketPath: string;
  owner: string;
  user: string;
  startupTimeoutMs: number;
  stopGraceMs: number;
  restart: RestartPolicy;
  /** How long healthy() waits for the Engine's ping. */
  pingTimeoutMs: number;
}

/** What the docker backend keeps per function besides its replicas. */
interface DockerWorkload {
  /** Pulling (or finding) the image, shared by the replicas; dropped on failure so a restart retries. */
  image: Promise<void> | undefined;
}

type Workload = ReplicaSetWorkload<DockerReplica, DockerWorkload>;

export function createDockerBackend(options: BackendOptions & Partial<DockerBackendTuning>): WorkloadBackend {
  const ownerSetting = options.owner ?? options.docker?.owner;
  if (!ownerSetting) throw new Error('the docker backend needs an owner (NANOFAAS_DOCKER_OWNER)');
  const tuning: DockerBackendTuning = {
    socketPath: options.socketPath ?? options.docker?.socketPath ?? '/var/run/docker.sock',
    owner: ownerSetting,
    user: options.user ?? options.docker?.user ?? '10001:10001',
    startupTimeoutMs: options.startupTimeoutMs ?? options.docker?.startupTimeoutMs ?? 60_000,
    stopGraceMs: options.stopGraceMs ?? options.docker?.stopGraceMs ?? 5_000,
    restart: options.restart ?? { initialDelayMs: 200, maxDelayMs: 30_000, stableMs: 60_000 },
    pingTimeoutMs: options.pingTimeoutMs ?? 3_000,
  };
  const { logger } = options;
  const owner = tuning.owner;
  const engine: Engine = connectEngine(tuning.socketPath);
  const labels = ownerLabels(owner);
  /** The last failed ping's message, for unavailableReason(). */
  let unavailable: string | undefined;

  const set = createReplicaSet<DockerReplica, DockerWorkload>({
    label: 'docker backend',
    logger,
    replacedMessage: 'docker backend: spec changed; containers replaced',
    error: (code, message) => new DockerBackendError(code, message, 0),
    async prepare(spec) {
      // A spec no container can be made of fails this call, before anything reaches the Engine.
      containerSpec(spec, context(0, 0));
      await sweep();
      return { image: undefined };
    },
    startReplica: addReplica,
    // An unreachable Engine fails the scale itself, with the socket's error.
    beforeScale: () => engine.ping(tuning.pingTimeoutMs),
    decorateStatus: withRestartNote,
    async afterClose() {
      await watcher.stop();
      // Whatever is still labelled ours (a replica that was being created when close began).
      await removeOwned().catch((err: unknown) => logger.warn({ err: String(err) }, 'docker backend: could not remove every container'));
    },
  });

  const watcher = startEventsWatcher({
    engine,
    labels,
    logger,
    onResync: () => {
      for (const r of set.replicas()) r.recheck();
    },
  });

  // Containers an earlier control plane of this owner left behind (it crashed, or was killed):
  // this one starts with its own registry and recreates what it needs. Retried until it succeeds.
  let swept: Promise<void> | undefined;
  function sweep(): Promise<void> {
    swept ??= removeOwned().catch((err: unknown) => {
      swept = undefined;
      throw err;
    });
    return swept;
  }
  async function removeOwned(): Promise<void> {
    const left = await engine.list(labels);
    await Promise.all(left.map((id) => engine.remove(id)));
    if (left.length > 0)
      logger.info({ owner, containers: left.length }, 'docker backend: removed containers left by an earlier control plane');
  }
  sweep().catch((err: unknown) => logger.error({ err: String(err) }, 'docker backend: the Engine is not reachable'));

  function context(index: number, port: number): ContainerContext {
    return {
      owner,
      index,
      port,
      user: tuning.user,
      ...(options.callbackBaseUrl ? { callbackBaseUrl: options.callbackBaseUrl } : {}),
      ...(options.callbackToken ? { callbackToken: options.callbackToken } : {}),
    };
  }

  function ensureImage(w: Workload): Promise<void> {
    const ref = w.spec.image as string;
    w.own.image ??= (async () => {
      if (await engine.hasImage(ref)) return;
      logger.info({ function: w.spec.name, image: ref }, 'docker backend: pulling image');
      // Its error names the Engine, the image and what the registry said (e.g. manifest unknown).
      await engine.pull(ref);
    })().catch((err: unknown) => {
      w.own.image = undefined;
      throw err;
    });
    return w.own.image;
  }

  /** The lowest replica index not in use, so names stay nanofaas-<owner>-fn-<name>-0…n-1. */
  function freeIndex(w: Workload): number {
    const used = new Set(w.replicas.map((r) => r.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  function addReplica(w: Workload, onChange: () => void): DockerReplica {
    const spec = w.spec;
    const index = freeIndex(w);
    return startDockerReplica({
      functionName: spec.name,
      index,
      engine,
      containerName: containerName(owner, spec.name, index),
      createFor: (port) => containerSpec(spec, context(index, port)),
      ensureImage: () => ensureImage(w),
      // Removed from the Engine since it was found: look (and pull) again on the next start.
      imageGone: () => {
        w.own.image = undefined;
      },
      watchExit: (id, onExit) => watcher.watch(id, onExit),
      startupTimeoutMs: tuning.startupTimeoutMs,
      stopGraceMs: tuning.stopGraceMs,
      restart: tuning.restart,
      logger,
      onChange,
    });
  }

  /** Restarts are counted in the message: "2 restarts (last: a container exited with code 137)". */
  function withRestartNote(status: FunctionStatus, w: Workload): FunctionStatus {
    const restarts = w.replicas.reduce((n, r) => n + r.restarts, 0);
    if (restarts === 0) return status;
    const last = w.replicas.find((r) => r.lastExit)?.lastExit;
    const note = `${restarts} restart${restarts === 1 ? '' : 's'}${last ? ` (last: a container ${last})` : ''}`;
    return { ...status, message: status.state === 'FAILED' ? `${status.message}; ${note}` : note };
  }

  return {
    name: 'docker',
    ...set.api,

    async healthy() {
      if (set.closed) return false;
      try {
        await engine.ping(tuning.pingTimeoutMs);
        unavailable = undefined;
        return true;
      } catch (err) {
        unavailable = (err as Error).message;
        return false;
      }
    },

    unavailableReason: () => (set.closed ? 'the docker backend is shutting down' : unavailable),
  };
}
