/**
 * The typed step model every pipeline (up, down, loadtest, multipass, …) is written in.
 * A step is plain data + functions so a test can run it without a terminal.
 */

/** What a step may do besides computing: log lines, run commands, notice an interrupt. */
export interface StepIO {
  /** Always false: a dry run never calls `run` (kept so a step can assert it). */
  readonly dryRun: boolean;
  /**
   * Aborted when the user interrupts (Ctrl-C). `exec` stops its program on it; a step that waits
   * on something else should stop waiting, undo what it cannot record, and throw.
   */
  readonly signal: AbortSignal;
  /** One line of progress; kept for the failure log tail and shown under the step title. */
  log(line: string): void;
  /**
   * Run a program (argv, never a shell). Its output is captured into the step log; a non-zero
   * exit throws a StepError naming the command with the last lines of its output.
   */
  exec(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Remember the URL or command this step is talking to, so a failure can name it. */
  target(commandOrUrl: string): void;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the program after this long (ms). */
  timeoutMs?: number;
  /** Shown in the failure message instead of the generic hint. */
  hint?: string;
  /** Non-zero exit is returned rather than thrown. */
  allowFailure?: boolean;
  input?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How the pipeline is running: a dry run must not change anything (files, processes, services). */
export interface StepMode {
  dryRun: boolean;
}

export interface Step<Ctx> {
  title: string;
  /**
   * Idempotence check, run before `run` (also in a dry run, so a plan shows what is already
   * done). Return false to run the step, or the reason it is not needed. With `dryRun` it may
   * look but must not write, start, stop or reload anything.
   */
  skip?: (ctx: Ctx, mode: StepMode) => false | string | Promise<false | string>;
  /**
   * The commands or actions the step would perform, printed by a dry run; read-only. A step
   * without one is shown by its title alone: a dry run never calls `run`.
   */
  plan?: (ctx: Ctx, mode: StepMode) => string[] | Promise<string[]>;
  run: (ctx: Ctx, io: StepIO) => void | Promise<void>;
  /** A fix the user can apply when this step fails (overridden by a StepError's own hint). */
  hint?: string;
}

/** `interrupted`: the step was running when the user pressed Ctrl-C (it did not finish). */
export type StepStatus = 'done' | 'skipped' | 'failed' | 'planned' | 'interrupted' | 'not-run';

export interface StepOutcome {
  title: string;
  status: StepStatus;
  durationMs: number;
  /** Skip reason, or the plan lines of a dry run. */
  detail?: string | string[];
}

/** A step that failed: what, where (command or URL), the tail of its log, and what to try. */
export class StepError extends Error {
  readonly step: string;
  readonly command: string | undefined;
  readonly logTail: string[];
  readonly hint: string | undefined;
  override readonly cause: unknown;

  constructor(init: { step: string; message: string; command?: string; logTail?: string[]; hint?: string; cause?: unknown }) {
    super(init.message);
    this.name = 'StepError';
    this.step = init.step;
    this.command = init.command;
    this.logTail = init.logTail ?? [];
    this.hint = init.hint;
    this.cause = init.cause;
  }

  toJSON(): Record<string, unknown> {
    return { step: this.step, message: this.message, command: this.command, logTail: this.logTail, hint: this.hint };
  }
}

/** An error thrown inside a step that already knows its command/hint (e.g. from `io.exec`). */
export class StepFailure extends Error {
  readonly command: string | undefined;
  readonly hint: string | undefined;
  readonly output: string[];
  constructor(message: string, details: { command?: string; hint?: string; output?: string[] } = {}) {
    super(message);
    this.name = 'StepFailure';
    this.command = details.command;
    this.hint = details.hint;
    this.output = details.output ?? [];
  }
}

/** Human form of a StepError, several lines, no colour (the caller colours the first line). */
export function formatStepError(error: StepError): string[] {
  const lines = [`✖ ${error.step} failed: ${error.message}`];
  if (error.command) lines.push(`  while running: ${error.command}`);
  if (error.logTail.length > 0) {
    lines.push(`  last ${error.logTail.length} log line${error.logTail.length === 1 ? '' : 's'}:`);
    for (const line of error.logTail) lines.push(`    │ ${line}`);
  }
  if (error.hint) lines.push(`  hint: ${error.hint}`);
  return lines;
}
