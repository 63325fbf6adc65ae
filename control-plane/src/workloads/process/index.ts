/**
 * The process workload backend: runs each function's runtime as local child processes on free
 * 127.0.0.1 ports (docs/design.md §4.4). Per function it keeps `replicas` supervisors (replica.ts); all
 * state the dispatcher reads (endpoints) is in memory and rebuilt only when something changes.
 */
import type { FunctionSpec, FunctionStatus } from '../../contracts/index.js';
import type { BackendOptions, Endpoint, WorkloadBackend } from '../backend.js';
import { resolveFunctionUser } from './function-user.js';
import {
  assertRequirements,
  LaunchError,
  loadLaunchDescriptor,
  resolveLaunch,
  type LaunchContext,
  type LaunchDescriptor,
} from './launch.js';
import { functionLogPath } from './log-file.js';
import { createPidRegistry, reapOrphans } from './pid-registry.js';
import { signalGroup } from './process-group.js';
import { startReplica, type Replica, type RestartPolicy, type StartFailure } from './replica.js';

export { LaunchError } from './launch.js';

/**
 * Knobs with production defaults. The control plane passes them as `options.process` (config.ts
 * reads the environment, once); tests may pass any of them directly, which wins.
 */
export interface ProcessBackendTuning {
  /** NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: how long a replica may take to answer /health. */
  startupTimeoutMs: number;
  /** NANOFAAS_PROCESS_STOP_GRACE_MS: SIGTERM → SIGKILL grace period. */
  stopGraceMs: number;
  restart: RestartPolicy;
  /** NANOFAAS_FUNCTION_USER as config.ts validated it (function-user.ts resolves it). */
  functionUser: string | undefined;
  /** NANOFAAS_PYTHON / NANOFAAS_JAVA: the values of ${operator:NAME} in launch descriptors. */
  operatorSettings: Record<string, string>;
  /** The host environment PATH, HOME and LANG are taken from (process.env); nothing else of it. */
  hostEnv: Readonly<Record<string, string | undefined>>;
}

interface Workload {
  spec: FunctionSpec;
  /** The spec without `replicas`: a change here means new processes. */
  launchKey: string;
  descriptor: LaunchDescriptor | undefined;
  replicas: Replica[];
  nextIndex: number;
  /** Frozen; replaced (never mutated) on every change, so callers may hold on to it. */
  endpoints: Endpoint[];
  /** Set when a start attempt failed and nothing is ready. */
  failure: StartFailure | undefined;
}

const NOT_PROVISIONED: FunctionStatus = { state: 'FAILED', replicas: 0, readyReplicas: 0, message: 'not provisioned' };
const NO_ENDPOINTS = Object.freeze([]) as unknown as Endpoint[];

export function createProcessBackend(options: BackendOptions & Partial<ProcessBackendTuning>): WorkloadBackend {
  const tuning: ProcessBackendTuning = {
    startupTimeoutMs: options.startupTimeoutMs ?? options.process?.startupTimeoutMs ?? 30_000,
    stopGraceMs: options.stopGraceMs ?? options.process?.stopGraceMs ?? 5_000,
    restart: options.restart ?? { initialDelayMs: 200, maxDelayMs: 30_000, stableMs: 60_000 },
    functionUser: 'functionUser' in options ? options.functionUser : options.process?.functionUser,
    operatorSettings: options.operatorSettings ?? options.process?.operatorSettings ?? {},
    hostEnv: options.hostEnv ?? process.env,
  };
  const { logger, rootDir, stateDir } = options;
  // An unknown user or a switch that needs root fails here, before anything runs as the wrong user.
  const user = resolveFunctionUser(tuning.functionUser);
  if (user) logger.info({ uid: user.uid, gid: user.gid, user: user.label }, 'function processes run as an unprivileged user');
  const hostEnv = user ? { ...tuning.hostEnv, HOME: user.home } : tuning.hostEnv;
  const workloads = new Map<string, Workload>();
  const listeners = new Set<(name: string) => void>();
  // One operation at a time per function: provision/scale/deprovision never interleave.
  const queues = new Map<string, Promise<unknown>>();
  const pids = createPidRegistry(stateDir, logger);
  const reaped = reapOrphans(stateDir, logger).catch((err: unknown) => {
    logger.warn({ err }, 'orphan reaping failed');
    return 0;
  });
  let closed = false;

  // Last resort if the host process exits without close(): exit handlers must be synchronous.
  const killAllOnExit = () => {
    for (const w of workloads.values()) for (const r of w.replicas) if (r.pid !== undefined) signalGroup(r.pid, 'SIGKILL');
  };
  process.on('exit', killAllOnExit);

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
        logger.error({ err, function: name }, 'process backend change listener threw');
      }
    }
  }

  function refresh(name: string, w: Workload): void {
    if (workloads.get(name) !== w) return; // a replaced or removed workload's replicas winding down
    w.endpoints = Object.freeze(
      w.replicas.filter((r) => r.url !== undefined).map((r) => ({ url: r.url as string, ready: r.ready })),
    ) as Endpoint[];
    const anyReady = w.replicas.some((r) => r.ready);
    w.failure = anyReady ? undefined : w.replicas.find((r) => r.lastFailure)?.lastFailure;
    emit(name);
  }

  function addReplica(w: Workload): void {
    const name = w.spec.name;
    const spec = w.spec;
    w.replicas.push(
      startReplica({
        functionName: name,
        index: w.nextIndex++,
        launchFor: (port) => resolveLaunch(w.descriptor, spec, launchContext(name, port)),
        user,
        logFile: functionLogPath(stateDir, name),
        startupTimeoutMs: tuning.startupTimeoutMs,
        stopGraceMs: tuning.stopGraceMs,
        restart: tuning.restart,
        logger,
        onChange: () => refresh(name, w),
        onSpawn: (pid) => pids.add(pid),
        onExit: (pid) => pids.remove(pid),
      }),
    );
  }

  /** Everything a child's environment is made of: never a copy of the control plane's own. */
  function launchContext(name: string, port: number): LaunchContext {
    return {
      port,
      rootDir,
      hostEnv,
      operator: tuning.operatorSettings,
      callbackBaseUrl: options.callbackBaseUrl,
      callbackToken: options.callbackToken?.(name),
      backendEnv: {
        // stdin is a pipe this process holds open (replica.ts): its EOF tells the runtime that
        // the control plane is gone, however it went.
        NANOFAAS_PARENT_PIPE: 'stdin',
        // Which control plane started the process: the CLI's `down` finds a crashed one's runtimes by it.
        NANOFAAS_OWNER_STATE_DIR: stateDir,
      },
    };
  }

  async function stopReplicas(replicas: Replica[]): Promise<void> {
    await Promise.all(replicas.map((r) => r.stop()));
  }

  async function doProvision(spec: FunctionSpec): Promise<void> {
    await reaped;
    if (closed) throw new LaunchError('SHUTTING_DOWN', 'the process backend is shutting down');
    const launchKey = JSON.stringify({ ...spec, replicas: undefined });
    const desired = spec.replicas ?? 1;
    const existing = workloads.get(spec.name);
    if (existing && existing.launchKey === launchKey) {
      if (existing.replicas.length !== desired) await doScale(spec.name, desired);
      return;
    }
    // Validate everything that can be checked without starting a process, so a bad spec is an
    // error of this call rather than a replica that fails forever.
    const descriptor = spec.runtime ? await loadLaunchDescriptor(rootDir, spec.runtime) : undefined;
    const probe = resolveLaunch(descriptor, spec, launchContext(spec.name, 0));
    await assertRequirements(probe, spec.name);

    const w: Workload = {
      spec: { ...spec, replicas: desired },
      launchKey,
      descriptor,
      replicas: [],
      nextIndex: 0,
      endpoints: NO_ENDPOINTS,
      failure: undefined,
    };
    if (existing) {
      // Stop-then-start: a changed spec must never be served by old and new code side by side.
      workloads.delete(spec.name);
      await stopReplicas(existing.replicas);
      logger.info({ function: spec.name }, 'spec changed; processes replaced');
    }
    workloads.set(spec.name, w);
    for (let i = 0; i < desired; i++) addReplica(w);
    refresh(spec.name, w);
  }

  async function doScale(name: string, replicas: number): Promise<void> {
    const w = workloads.get(name);
    if (!w) throw new LaunchError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`);
    w.spec = { ...w.spec, replicas };
    while (w.replicas.length < replicas) addReplica(w);
    if (w.replicas.length > replicas) {
      // Remove the least useful first: not-ready replicas, then the newest.
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

  function statusOf(w: Workload): FunctionStatus {
    const desired = w.replicas.length;
    const readyReplicas = w.replicas.filter((r) => r.ready).length;
    if (desired === 0) return { state: 'READY', replicas: 0, readyReplicas: 0, message: 'scaled to zero' };
    if (readyReplicas === desired) return { state: 'READY', replicas: desired, readyReplicas };
    if (readyReplicas > 0) return { state: 'DEGRADED', replicas: desired, readyReplicas };
    if (w.failure) {
      return {
        state: 'FAILED',
        replicas: desired,
        readyReplicas,
        message: w.failure.reason,
        logTail: w.failure.logTail,
        logPath: functionLogPath(stateDir, w.spec.name),
      };
    }
    return { state: 'PENDING', replicas: desired, readyReplicas };
  }

  return {
    name: 'process',

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
          if (!w) return settle(new LaunchError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`));
          if (w.replicas.some((r) => r.ready)) return settle();
          if (w.failure) return settle(new LaunchError('BACKEND_UNAVAILABLE', `function "${name}" failed to start: ${w.failure.reason}`));
        };
        const listener = (changed: string) => {
          if (changed === name) check();
        };
        listeners.add(listener);
        unsubscribe = () => listeners.delete(listener);
        timer = setTimeout(() => settle(new LaunchError('TIMEOUT', `function "${name}" not ready within ${timeoutMs} ms`)), timeoutMs);
        check();
      });
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    healthy: async () => !closed,

    async close() {
      if (closed) return;
      closed = true;
      // Let operations already under way finish first, so a function being provisioned right now
      // is not missed; anything queued after this point is refused.
      await Promise.all([...queues.values()]);
      const names = [...workloads.keys()];
      await Promise.all(names.map((name) => serial(name, () => doDeprovision(name))));
      await pids.close();
      process.off('exit', killAllOnExit);
    },
  };
}
