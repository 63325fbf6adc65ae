/**
 * Per-function sets of supervised replicas: the bookkeeping the process and docker backends share
 * (docs/design.md §4.2). One operation at a time per function; endpoints held in memory and rebuilt
 * only on change; provision as scale or stop-then-start; status, waitReady and the shutdown order.
 * What a replica is (a process, a container) and what surrounds it stay in the backend, which
 * plugs in through ReplicaSetOptions.
 */
import type { ErrorCode, FunctionSpec, FunctionStatus, ReplicaStatus } from '../contracts/index.js';
import type { BackendLogger, Endpoint, WorkloadBackend } from './backend.js';
import type { StartFailure } from './supervise.js';

/** What the set reads of a replica. */
export interface SetReplica {
  readonly index: number;
  /** Base URL while a run is up, undefined between runs. */
  readonly url: string | undefined;
  readonly ready: boolean;
  /** Why the last start attempt failed; cleared once a run becomes ready. */
  readonly lastFailure: StartFailure | undefined;
  /** Runs started after the first one. */
  readonly restarts: number;
  /** The last run that ended badly, with when; kept after the replica recovered. */
  readonly lastError: ReplicaStatus['lastError'];
  /** Resolves when nothing of the replica is left running. */
  stop(): Promise<void>;
}

export interface Workload<R extends SetReplica, D> {
  /** The spec, with `replicas` the desired count. */
  spec: FunctionSpec;
  /** The spec without `replicas`: a change here means new replicas. */
  readonly key: string;
  replicas: R[];
  /** Frozen; replaced (never mutated) on every change, so callers may hold on to it. */
  endpoints: Endpoint[];
  /** The backend's own state for this workload (what prepare returned). */
  readonly own: D;
}

export interface ReplicaSetOptions<R extends SetReplica, D> {
  /** e.g. "process backend": names the backend in its log lines and its shutting-down error. */
  label: string;
  logger: BackendLogger;
  /** Logged when a changed spec replaced a function's replicas. */
  replacedMessage: string;
  /** The backend's own error class: its code is what callers read. */
  error(code: ErrorCode, message: string): Error;
  /** Every provision waits for it before anything else (e.g. orphans reaped). */
  startup?: Promise<unknown>;
  /**
   * A new or changed spec: check what can be checked before anything starts, so a bad spec fails
   * this call rather than a replica forever, and return the workload's own state.
   */
  prepare(spec: FunctionSpec): Promise<D> | D;
  /** One more replica of `w`; it calls onChange whenever its url, readiness or failure changes. */
  startReplica(w: Workload<R, D>, onChange: () => void): R;
  /** Before a scale changes anything; a throw fails the scale. */
  beforeScale?(): Promise<void>;
  /** What the backend adds to a status (never to "scaled to zero"). */
  decorateStatus?(status: FunctionStatus, w: Workload<R, D>): FunctionStatus;
  /** The end of close(), once every replica has stopped. */
  afterClose?(): Promise<void>;
}

export interface ReplicaSet<R extends SetReplica> {
  /** The WorkloadBackend methods the set implements. */
  readonly api: Pick<WorkloadBackend, 'provision' | 'deprovision' | 'scale' | 'endpoints' | 'status' | 'waitReady' | 'onChange' | 'close'>;
  /** close() has begun. */
  readonly closed: boolean;
  /** The replicas of every function provisioned now. */
  replicas(): Generator<R>;
}

const NOT_PROVISIONED: FunctionStatus = { state: 'FAILED', replicas: 0, readyReplicas: 0, message: 'not provisioned' };
const NO_ENDPOINTS = Object.freeze([]) as unknown as Endpoint[];

export function createReplicaSet<R extends SetReplica, D>(options: ReplicaSetOptions<R, D>): ReplicaSet<R> {
  const { label, logger, error } = options;
  const workloads = new Map<string, Workload<R, D>>();
  const listeners = new Set<(name: string) => void>();
  // One operation at a time per function: provision/scale/deprovision never interleave.
  const queues = new Map<string, Promise<unknown>>();
  let closed = false;

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
        logger.error({ err, function: name }, `${label} change listener threw`);
      }
    }
  }

  function refresh(name: string, w: Workload<R, D>): void {
    if (workloads.get(name) !== w) return; // a replaced or removed workload's replicas winding down
    w.endpoints = Object.freeze(
      w.replicas.filter((r) => r.url !== undefined).map((r) => ({ url: r.url as string, ready: r.ready })),
    ) as Endpoint[];
    emit(name);
  }

  function addReplica(w: Workload<R, D>): void {
    w.replicas.push(options.startReplica(w, () => refresh(w.spec.name, w)));
  }

  /** Set only while nothing is ready: the failure of the first replica that has one. */
  function failureOf(w: Workload<R, D>): StartFailure | undefined {
    return w.replicas.some((r) => r.ready) ? undefined : w.replicas.find((r) => r.lastFailure)?.lastFailure;
  }

  async function stopReplicas(replicas: R[]): Promise<void> {
    await Promise.all(replicas.map((r) => r.stop()));
  }

  async function doProvision(spec: FunctionSpec): Promise<void> {
    await options.startup;
    if (closed) throw error('SHUTTING_DOWN', `the ${label} is shutting down`);
    const key = JSON.stringify({ ...spec, replicas: undefined });
    const desired = spec.replicas ?? 1;
    const existing = workloads.get(spec.name);
    if (existing && existing.key === key) {
      if (existing.replicas.length !== desired) await doScale(spec.name, desired);
      return;
    }
    const own = await options.prepare(spec);
    const w: Workload<R, D> = { spec: { ...spec, replicas: desired }, key, replicas: [], endpoints: NO_ENDPOINTS, own };
    if (existing) {
      // Stop-then-start: a changed spec must never be served by old and new code side by side.
      workloads.delete(spec.name);
      await stopReplicas(existing.replicas);
      logger.info({ function: spec.name }, options.replacedMessage);
    }
    workloads.set(spec.name, w);
    for (let i = 0; i < desired; i++) addReplica(w);
    refresh(spec.name, w);
  }

  async function doScale(name: string, replicas: number): Promise<void> {
    const w = workloads.get(name);
    if (!w) throw error('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`);
    await options.beforeScale?.();
    w.spec = { ...w.spec, replicas };
    while (w.replicas.length < replicas) addReplica(w);
    if (w.replicas.length > replicas) {
      // Remove the least useful first: not-ready replicas, then the highest index.
      const ordered = [...w.replicas].sort((a, b) => Number(a.ready) - Number(b.ready) || b.index - a.index);
      const removed = ordered.slice(0, w.replicas.length - replicas);
      w.replicas = w.replicas.filter((r) => !removed.includes(r));
      refresh(name, w);
      await stopReplicas(removed);
    }
    refresh(name, w);
  }

  async function doDeprovision(name: string): Promise<void> {
    const w = workloads.get(name);
    if (!w) return;
    workloads.delete(name);
    emit(name);
    await stopReplicas(w.replicas);
  }

  function instancesOf(w: Workload<R, D>): ReplicaStatus[] {
    return [...w.replicas]
      .sort((a, b) => a.index - b.index)
      .map((r) => ({
        index: r.index,
        ready: r.ready,
        ...(r.url === undefined ? {} : { url: r.url }),
        restarts: r.restarts,
        ...(r.lastError ? { lastError: r.lastError } : {}),
      }));
  }

  function statusOf(w: Workload<R, D>): FunctionStatus {
    const desired = w.replicas.length;
    const readyReplicas = w.replicas.filter((r) => r.ready).length;
    if (desired === 0) return { state: 'READY', replicas: 0, readyReplicas: 0, message: 'scaled to zero', instances: [] };
    const decorate = (s: FunctionStatus) => {
      const decorated = options.decorateStatus?.(s, w) ?? s;
      return { ...decorated, instances: instancesOf(w) };
    };
    if (readyReplicas === desired) return decorate({ state: 'READY', replicas: desired, readyReplicas });
    if (readyReplicas > 0) return decorate({ state: 'DEGRADED', replicas: desired, readyReplicas });
    const failure = failureOf(w);
    if (failure) {
      return decorate({ state: 'FAILED', replicas: desired, readyReplicas, message: failure.reason, logTail: failure.logTail });
    }
    return decorate({ state: 'PENDING', replicas: desired, readyReplicas });
  }

  function waitReady(name: string, timeoutMs: number): Promise<void> {
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
        if (!w) return settle(error('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`));
        if (w.replicas.some((r) => r.ready)) return settle();
        const failure = failureOf(w);
        if (failure) return settle(error('BACKEND_UNAVAILABLE', `function "${name}" failed to start: ${failure.reason}`));
      };
      const listener = (changed: string) => {
        if (changed === name) check();
      };
      listeners.add(listener);
      unsubscribe = () => listeners.delete(listener);
      timer = setTimeout(() => settle(error('TIMEOUT', `function "${name}" not ready within ${timeoutMs} ms`)), timeoutMs);
      check();
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    // Let operations already under way finish first, so a function being provisioned right now
    // is not missed; anything queued after this point is refused.
    await Promise.all([...queues.values()]);
    const names = [...workloads.keys()];
    await Promise.all(names.map((name) => serial(name, () => doDeprovision(name))));
    await options.afterClose?.();
  }

  return {
    api: {
      provision: (spec) => serial(spec.name, () => doProvision(spec)),
      deprovision: (name) => serial(name, () => doDeprovision(name)),
      scale: (name, replicas) => serial(name, () => doScale(name, replicas)),
      endpoints: (name) => workloads.get(name)?.endpoints ?? NO_ENDPOINTS,
      status(name) {
        const w = workloads.get(name);
        return w ? statusOf(w) : NOT_PROVISIONED;
      },
      waitReady,
      onChange(listener) {
        listeners.add(listener);
        return () => {
          listeners.delete(listener);
        };
      },
      close,
    },
    get closed() {
      return closed;
    },
    *replicas() {
      for (const w of workloads.values()) yield* w.replicas;
    },
  };
}
