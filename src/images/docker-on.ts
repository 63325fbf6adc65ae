/**
 * Where the image code runs docker: a Host (this machine, a Multipass VM) and the docker argv prefix
 * on it (`['docker']`, or `['sudo', 'docker']` in the VM), optionally inside a pipeline step.
 *
 *   interface DockerOn { host: Host; docker?: readonly string[]; io?: StepIO }
 *
 * With `io`, a command that changes something is logged and streamed into the step log, stopped on
 * Ctrl-C, and a failure is a StepFailure naming the command; without, a failure throws
 * CommandFailedError (the command, the tail of its output, the hint).
 */
import type { StepIO } from '../pipeline/step.js';
import { CommandFailedError, type ExecResult, formatArgv, type Host } from '../targets/host/host.js';
import { hostExec } from '../targets/host/step-exec.js';

export interface DockerOn {
  /** The machine docker runs on: LocalHost here, MultipassHost in the VM. */
  host: Host;
  /** The docker argv prefix on that host; default `['docker']`. */
  docker?: readonly string[];
  /** The step this runs in, if any. */
  io?: StepIO;
}

export function dockerArgv(on: Pick<DockerOn, 'docker'>, args: readonly string[]): string[] {
  return [...(on.docker ?? ['docker']), ...args];
}

/** The exact local command a docker call starts: what a dry run prints. */
export function showDocker(on: Pick<DockerOn, 'host' | 'docker'>, args: readonly string[]): string {
  return formatArgv(on.host.commandFor(dockerArgv(on, args)));
}

/** A docker command that changes something (build, tag, push): throws when it fails. */
export async function runDocker(
  on: DockerOn,
  args: readonly string[],
  opts: { hint?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const argv = dockerArgv(on, args);
  if (on.io) return hostExec(on.host, on.io)(argv, opts);
  const result = await on.host.exec(argv, opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {});
  if (result.exitCode !== 0 || result.timedOut) throw new CommandFailedError(formatArgv(on.host.commandFor(argv)), result, opts.hint);
  return result;
}

/** A read-only docker question (inspect, version): not logged, never throws. */
export function probeDocker(on: DockerOn, args: readonly string[], timeoutMs = 60_000): Promise<ExecResult> {
  return on.host.exec(dockerArgv(on, args), { timeoutMs, ...(on.io ? { signal: on.io.signal } : {}) });
}
