/**
 * The docker workload backend: each replica of a function is a container on the local Docker
 * Engine, with host networking on a free 127.0.0.1 port (docs/design.md §4.2). Containers carry
 * the owner label (NANOFAAS_DOCKER_OWNER); the backend only ever removes containers with it.
 * State the dispatcher reads (endpoints) is in memory and rebuilt only when something changes;
 * deaths come from one Engine event stream (events.ts), never from polling.
 */
import type { FunctionSpec, FunctionStatus } from '../../contracts/index.js';
import type { BackendOptions, Endpoint, WorkloadBackend } from '../backend.js';
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

interface Workload {
  spec: FunctionSpec;
  /** The spec without `replicas`: a change here means new containers. */
  key: string;
  replicas: DockerReplica[];
  endpoints: Endpoint[];
  /** Pulling (or finding) the image, shared by the replicas; dropped on failure so a restart retries. */
  image: Promise<void> | undefined;
}

const NOT_PROVISIONED: FunctionStatus = { state: 'FAILED', replicas: 0, readyReplicas: 0, message: 'not provisioned' };
const NO_ENDPOINTS = Object.freeze([]) as unknown as Endpoint[];

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
  const workloads = new Map<string, Workload>();
  const listeners = new Set<(name: string) => void>();
  const queues = new Map<string, Promise<unknown>>();
  let closed = false;
  /** The last failed ping's message, for unavailableReason(). */
  let unavailable: string | undefined;

  const watcher = startEventsWatcher({
    engine,
    labels,
    logger,
    onResync: () => {
      for (const w of workloads.values()) for (const r of w.replicas) r.recheck();
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

  function serial<T>(name: string, op: () => Promise<T>): Promise<T> {
    const previous = queues.get(name) ?? Promise.resolve();
    const next = previous.then(op, op);
    const settled = next.catch(() => undefined);
    queues.set(name, settled);
    void settled.then(() => {
      if (queues.get(name) === settled) queues.delete(name);
    });
    return next;
  }

  function emit(name: string): void {
    for (const listener of listeners) {
      try {
        listener(name);
      } catch (err) {
        logger.error({ err, function: name }, 'docker backend change listener threw');
      }
    }
  }

  function refresh(name: string, w: Workload): void {
    if (workloads.get(name) !== w) return; // a replaced or removed workload's replicas winding down
    w.endpoints = Object.freeze(
      w.replicas.filter((r) => r.url !== undefined).map((r) => ({ url: r.url as string, ready: r.ready })),
    ) as Endpoint[];
    emit(name);
  }

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
    w.image ??= (async () => {
      if (await engine.hasImage(ref)) return;
      logger.info({ function: w.spec.name, image: ref }, 'docker backend: pulling image');
      // Its error names the Engine, the image and what the registry said (e.g. manifest unknown).
      await engine.pull(ref);
    })().catch((err: unknown) => {
      w.image = undefined;
      throw err;
    });
    return w.image;
  }

  /** The lowest replica index not in use, so names stay nanofaas-<owner>-fn-<name>-0…n-1. */
  function freeIndex(w: Workload): number {
    const used = new Set(w.replicas.map((r) => r.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  function addReplica(w: Workload): void {
    const spec = w.spec;
    const index = freeIndex(w);
    w.replicas.push(
      startDockerReplica({
        functionName: spec.name,
        index,
        engine,
        containerName: containerName(owner, spec.name, index),
        createFor: (port) => containerSpec(spec, context(index, port)),
        ensureImage: () => ensureImage(w),
        // Removed from the Engine since it was found: look (and pull) again on the next start.
        imageGone: () => {
          w.image = undefined;
        },
        watchExit: (id, onExit) => watcher.watch(id, onExit),
        startupTimeoutMs: tuning.startupTimeoutMs,
        stopGraceMs: tuning.stopGraceMs,
        restart: tuning.restart,
        logger,
        onChange: () => refresh(spec.name, w),
      }),
    );
  }

  async function doProvision(spec: FunctionSpec): Promise<void> {
    if (closed) throw new DockerBackendError('SHUTTING_DOWN', 'the docker backend is shutting down', 0);
    // A spec no container can be made of fails this call, before anything reaches the Engine.
    containerSpec(spec, context(0, 0));
    await sweep();
    const key = JSON.stringify({ ...spec, replicas: undefined });
    const desired = spec.replicas ?? 1;
    const existing = workloads.get(spec.name);
    if (existing && existing.key === key) {
      if (existing.replicas.length !== desired) await doScale(spec.name, desired);
      return;
    }
    const w: Workload = { spec: { ...spec, replicas: desired }, key, replicas: [], endpoints: NO_ENDPOINTS, image: undefined };
    if (existing) {
      // Stop-then-start: a changed spec must never be served by old and new code side by side.
      workloads.delete(spec.name);
      await Promise.all(existing.replicas.map((r) => r.stop()));
      logger.info({ function: spec.name }, 'docker backend: spec changed; containers replaced');
    }
    workloads.set(spec.name, w);
    for (let i = 0; i < desired; i++) addReplica(w);
    refresh(spec.name, w);
  }

  async function doScale(name: string, replicas: number): Promise<void> {
    const w = workloads.get(name);
    if (!w) throw new DockerBackendError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`, 0);
    await engine.ping(tuning.pingTimeoutMs);
    w.spec = { ...w.spec, replicas };
    while (w.replicas.length < replicas) addReplica(w);
    if (w.replicas.length > replicas) {
      // Remove the least useful first: not-ready replicas, then the highest index.
      const ordered = [...w.replicas].sort((a, b) => Number(a.ready) - Number(b.ready) || b.index - a.index);
      const removed = ordered.slice(0, w.replicas.length - replicas);
      w.replicas = w.replicas.filter((r) => !removed.includes(r));
      refresh(name, w);
      await Promise.all(removed.map((r) => r.stop()));
    }
    refresh(name, w);
  }

  async function doDeprovision(name: string): Promise<void> {
    const w = workloads.get(name);
    if (!w) return;
    workloads.delete(name);
    emit(name);
    await Promise.all(w.replicas.map((r) => r.stop()));
  }

  function statusOf(w: Workload): FunctionStatus {
    const desired = w.replicas.length;
    const readyReplicas = w.replicas.filter((r) => r.ready).length;
    const restarts = w.replicas.reduce((n, r) => n + r.restarts, 0);
    const last = w.replicas.find((r) => r.lastExit)?.lastExit;
    const restartNote =
      restarts > 0 ? `${restarts} restart${restarts === 1 ? '' : 's'}${last ? ` (last: a container ${last})` : ''}` : undefined;
    const withNote = (s: FunctionStatus): FunctionStatus => (restartNote ? { ...s, message: restartNote } : s);
    if (desired === 0) return { state: 'READY', replicas: 0, readyReplicas: 0, message: 'scaled to zero' };
    if (readyReplicas === desired) return withNote({ state: 'READY', replicas: desired, readyReplicas });
    if (readyReplicas > 0) return withNote({ state: 'DEGRADED', replicas: desired, readyReplicas });
    const failure = w.replicas.find((r) => r.lastFailure)?.lastFailure;
    if (failure) {
      return {
        state: 'FAILED',
        replicas: desired,
        readyReplicas,
        message: restartNote ? `${failure.reason}; ${restartNote}` : failure.reason,
        logTail: failure.logTail,
      };
    }
    return withNote({ state: 'PENDING', replicas: desired, readyReplicas });
  }

  return {
    name: 'docker',

    provision: (spec) => serial(spec.name, () => doProvision(spec)),

    deprovision: (name) => serial(name, () => doDeprovision(name)),

    scale: (name, replicas) => serial(name, () => doScale(name, replicas)),

    endpoints: (name) => workloads.get(name)?.endpoints ?? NO_ENDPOINTS,

    status(name) {
      const w = workloads.get(name);
      return w ? statusOf(w) : NOT_PROVISIONED;
    },

    waitReady(name, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let unsubscribe = () => {};
        const settle = (err?: Error) => {
          clearTimeout(timer);
          unsubscribe();
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          const w = workloads.get(name);
          if (!w) return settle(new DockerBackendError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`, 0));
          if (w.replicas.some((r) => r.ready)) return settle();
          const failure = w.replicas.find((r) => r.lastFailure)?.lastFailure;
          if (failure)
            return settle(new DockerBackendError('BACKEND_UNAVAILABLE', `function "${name}" failed to start: ${failure.reason}`, 0));
        };
        const listener = (changed: string) => {
          if (changed === name) check();
        };
        listeners.add(listener);
        unsubscribe = () => listeners.delete(listener);
        timer = setTimeout(
          () => settle(new DockerBackendError('TIMEOUT', `function "${name}" not ready within ${timeoutMs} ms`, 0)),
          timeoutMs,
        );
        check();
      });
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async healthy() {
      if (closed) return false;
      try {
        await engine.ping(tuning.pingTimeoutMs);
        unavailable = undefined;
        return true;
      } catch (err) {
        unavailable = (err as Error).message;
        return false;
      }
    },

    unavailableReason: () => (closed ? 'the docker backend is shutting down' : unavailable),

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...queues.values()]);
      const names = [...workloads.keys()];
      await Promise.all(names.map((name) => serial(name, () => doDeprovision(name))));
      await watcher.stop();
      // Whatever is still labelled ours (a replica that was being created when close began).
      await removeOwned().catch((err: unknown) => logger.warn({ err: String(err) }, 'docker backend: could not remove every container'));
    },
  };
}
