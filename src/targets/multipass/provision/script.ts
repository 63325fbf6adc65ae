import { $, quote } from 'zx/core';
import { StepFailure, type StepIO } from '../../../pipeline/step.js';
import { formatDuration } from '../../../util/format.js';
import { DEFAULT_EXEC_TIMEOUT_MS, formatArgv, type ExecResult, type Host } from '../../host/host.js';
import { hostExec, type StepExecOptions } from '../../host/step-exec.js';

/** What a script may interpolate: zx quotes each value, and each element of an array. */
export type ScriptValue = string | number | readonly (string | number)[];

/**
 * zx builds the command but never starts it (`halt`): its `cmd` is the text bash will read on the
 * host, every value quoted by zx's bash quoting. The shell is named rather than looked up, since
 * the command runs on the host, not here; zx's own prefix is left out so scripts state theirs.
 */
const zx = $({ halt: true, shell: 'bash', prefix: '', postfix: '', quote, quiet: true });

/** One line of a script: literal shell from the template, values quoted by zx. */
export function sh(pieces: TemplateStringsArray, ...values: ScriptValue[]): string {
  const cmd: unknown = zx(pieces, ...values).cmd;
  if (typeof cmd !== 'string') throw new Error(`zx did not build a command from: ${pieces.join('…')}`);
  return cmd;
}

/** A bash script for the host (VM or container), the same text in the plan and in the run. */
export interface HostScript {
  /** Names the failure: "docker exited with code 1". */
  what: string;
  /** Runs under sudo (apt, systemd, docker, k3s). */
  root: boolean;
  text: string;
}

const PRELUDE = 'set -euo pipefail';

/**
 * Every script stops at the first failing command or pipeline stage (zx's own prelude): one line
 * is `set -euo pipefail; <command>`, as zx runs a command; more lines follow the prelude's own.
 */
export function script(what: string, root: boolean, lines: readonly string[]): HostScript {
  const text = lines.length === 1 ? `${PRELUDE}; ${lines[0]}` : [PRELUDE, ...lines].join('\n');
  return { what, root, text };
}

/** The argv a Host runs: `[sudo] bash -c <text>`, the text one argument, so no other shell re-reads it. */
export function scriptArgv(s: HostScript): string[] {
  return [...(s.root ? ['sudo'] : []), 'bash', '-c', s.text];
}

/** Plan lines are printed after `    $ `; script lines are indented under the command. */
const SCRIPT_INDENT = '      ';

/**
 * The exact command `runScript` starts, printable and pasteable: a multi-line script stays
 * multi-line (`if … fi` on one line with `;` is not always the same script), single quotes inside
 * are written as '\''.
 */
export function showScript(host: Host, s: HostScript): string {
  const argv = host.commandFor(scriptArgv(s).slice(0, -1));
  const quoted = (text: string) => text.replaceAll("'", `'\\''`);
  if (!s.text.includes('\n')) return `${formatArgv(argv)} '${quoted(s.text)}'`;
  const body = s.text
    .split('\n')
    .map((line) => `${SCRIPT_INDENT}  ${quoted(line)}`.trimEnd())
    .join('\n');
  return `${formatArgv(argv)} '\n${body}\n${SCRIPT_INDENT}'`;
}

/**
 * Runs a script on the host through the step's log (streamed output, heartbeat, the command named
 * on failure); a failure is told by what the script does rather than as "bash exited".
 */
export async function runScript(
  host: Host,
  io: StepIO,
  s: HostScript,
  opts: Omit<StepExecOptions, 'allowFailure'> = {},
): Promise<ExecResult> {
  const argv = scriptArgv(s);
  const result = await hostExec(host, io)(argv, { ...opts, allowFailure: true });
  if (result.exitCode === 0 && !result.timedOut) return result;
  const why = result.timedOut
    ? `timed out after ${formatDuration(opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS)}`
    : `exited with code ${result.exitCode}`;
  throw new StepFailure(`${s.what} ${why}`, { command: formatArgv(host.commandFor(argv)), ...(opts.hint ? { hint: opts.hint } : {}) });
}

/** Runs a read-only check script (a skip decision): not logged, never throws. */
export function probeScript(host: Host, s: HostScript, timeoutMs: number): Promise<ExecResult> {
  return host.exec(scriptArgv(s), { timeoutMs });
}
