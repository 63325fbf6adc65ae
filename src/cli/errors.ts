/** Exit codes of every command (docs/design.md §7.3). */
/** `interrupted` is 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C. */
export const EXIT = { ok: 0, failed: 1, usage: 2, thresholds: 99, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line (plus an optional hint) and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly code: string;
  constructor(message: string, options: { exitCode?: number; hint?: string; code?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.hint = options.hint;
    this.code = options.code ?? (this.exitCode === EXIT.usage ? 'USAGE' : 'FAILED');
  }
}

/** Bad flags, values or arguments: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: EXIT.usage, code: 'USAGE', ...(hint ? { hint } : {}) });
    this.name = 'UsageError';
  }
}
