/**
 * The process workload backend: runs each function's runtime as local child processes on free
 * 127.0.0.1 ports (docs/design.md §4.4). Per function it keeps `replicas` supervisors (replica.ts) in a
 * replica set (../replica-set.ts), which keeps what the dispatcher reads in memory. What stays here
 * is the process backend's own: launch descriptors, the function user, the pid registry, log paths.
 */
import type { BackendOptions, WorkloadBackend } from '../backend.js';
import { createReplicaSet } from '../replica-set.js';
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
import { startReplica, type Replica, type RestartPolicy } from './replica.js';

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

/** What the process backend keeps per function besides its replicas. */
interface ProcessWorkload {
  descriptor: LaunchDescriptor | undefined;
  /** Indexes are never reused: the highest is the newest (scale-down removes it first). */
  nextIndex: number;
}

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
  const pids = createPidRegistry(stateDir, logger);
  const reaped = reapOrphans(stateDir, logger).catch((err: unknown) => {
    logger.warn({ err }, 'orphan reaping failed');
    return 0;
  });

  const set = createReplicaSet<Replica, ProcessWorkload>({
    label: 'process backend',
    logger,
    replacedMessage: 'spec changed; processes replaced',
    error: (code, message) => new LaunchError(code, message),
    startup: reaped,
    async prepare(spec) {
      const descriptor = spec.runtime ? await loadLaunchDescriptor(rootDir, spec.runtime) : undefined;
      const probe = resolveLaunch(descriptor, spec, launchContext(spec.name, 0));
      await assertRequirements(probe, spec.name);
      return { descriptor, nextIndex: 0 };
    },
    startReplica(w, onChange) {
      const { spec, own } = w;
      const name = spec.name;
      return startReplica({
        functionName: name,
        index: own.nextIndex++,
        launchFor: (port) => resolveLaunch(own.descriptor, spec, launchContext(name, port)),
        user,
        logFile: functionLogPath(stateDir, name),
        startupTimeoutMs: tuning.startupTimeoutMs,
        stopGraceMs: tuning.stopGraceMs,
        restart: tuning.restart,
        logger,
        onChange,
        onSpawn: (pid) => pids.add(pid),
        onExit: (pid) => pids.remove(pid),
      });
    },
    decorateStatus: (status, w) => (status.state === 'FAILED' ? { ...status, logPath: functionLogPath(stateDir, w.spec.name) } : status),
    async afterClose() {
      await pids.close();
      process.off('exit', killAllOnExit);
    },
  });

  // Last resort if the host process exits without close(): exit handlers must be synchronous.
  const killAllOnExit = () => {
    for (const r of set.replicas()) if (r.pid !== undefined) signalGroup(r.pid, 'SIGKILL');
  };
  process.on('exit', killAllOnExit);

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

  return {
    name: 'process',
    ...set.api,
    healthy: async () => !set.closed,
  };
}
