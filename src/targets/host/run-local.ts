import { runCommand } from '../../util/process.js';
import { DEFAULT_EXEC_TIMEOUT_MS, DEFAULT_HEARTBEAT_MS, type ExecOptions, type ExecResult } from './host.js';

/** Runs a local argv (never a shell), enforcing the timeout and emitting heartbeats. */
export type Runner = (argv: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export const runLocal: Runner = async (argv, opts = {}) => {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('runLocal: empty argv');
  const started = Date.now();
  const heartbeat = opts.heartbeat;
  // A timer, not a poll: it only tells a person watching a 10-minute image build that it is alive.
  const timer = heartbeat
    ? setInterval(() => heartbeat(Date.now() - started), opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS)
    : undefined;
  try {
    return await runCommand(file, args, {
      timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      // opts.env is added to this process's environment, so PATH and KUBECONFIG still reach kubectl/helm.
      ...(opts.env ? { env: opts.env, extendEnv: true } : {}),
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    if (timer) clearInterval(timer);
  }
};
