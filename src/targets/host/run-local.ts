import { runProgram } from '../../util/process.js';
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
    return await runProgram(file, args, {
      timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    });
  } finally {
    if (timer) clearInterval(timer);
  }
};
