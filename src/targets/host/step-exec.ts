import { StepFailure, type StepIO } from '../../pipeline/step.js';
import { formatDuration } from '../../util/format.js';
import { DEFAULT_EXEC_TIMEOUT_MS, formatArgv, programName, type ExecOptions, type ExecResult, type Host } from './host.js';

export interface StepExecOptions extends Omit<ExecOptions, 'onLine' | 'heartbeat'> {
  /** What to try when the command fails (shown under the error). */
  hint?: string;
  /** Return a non-zero result instead of throwing. */
  allowFailure?: boolean;
  /** Do not copy the command's output into the step log (e.g. a kubeconfig with credentials). */
  quiet?: boolean;
}

export type HostExec = (argv: readonly string[], opts?: StepExecOptions) => Promise<ExecResult>;

/**
 * Binds a Host to a pipeline step: every command is logged, streams its output into the step log
 * (so a failure shows the tail), prints a heartbeat every 30 s, is stopped on Ctrl-C (io.signal),
 * and fails as a StepFailure naming the exact command and a hint.
 */
export function hostExec(host: Host, io: StepIO): HostExec {
  return async (argv, opts = {}) => {
    const { hint, allowFailure, quiet, ...execOpts } = opts;
    const shown = formatArgv(host.commandFor(argv, execOpts));
    io.target(shown);
    io.log(`$ ${shown}`);
    const result = await host.exec(argv, {
      ...execOpts,
      ...(quiet ? {} : { onLine: (line: string) => io.log(line) }),
      heartbeat: (ms) => io.log(`… still running after ${formatDuration(ms)}: ${shown}`),
      signal: io.signal,
    });
    if ((result.exitCode !== 0 || result.timedOut) && !allowFailure) {
      const why = result.timedOut
        ? `timed out after ${formatDuration(execOpts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS)}`
        : `exited with code ${result.exitCode}`;
      throw new StepFailure(`${programName(argv)} ${why}`, { command: shown, ...(hint ? { hint } : {}) });
    }
    return result;
  };
}
