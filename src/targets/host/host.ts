/**
 * The small seam every cluster step runs through: a machine that can run a command and receive
 * a file. `LocalHost` is this machine, `MultipassHost` a Multipass VM; another Linux host (ssh)
 * would be one more implementation, with the steps unchanged.
 */
export interface ExecOptions {
  /** Kill the command after this long; default 900 s: room for a cold image build or k3s install in a VM. */
  timeoutMs?: number;
  /** Called every `heartbeatIntervalMs` (default 30 s) while the command runs, with the elapsed time. */
  heartbeat?: (elapsedMs: number) => void;
  heartbeatIntervalMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  /** Extra environment for the command (passed as values, never spliced into a shell string). */
  env?: Record<string, string>;
  /** Each output line as it arrives (stdout and stderr interleaved) — feeds the step log. */
  onLine?: (line: string) => void;
  /** Stops the command when aborted (the pipeline's Ctrl-C). */
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
}

export interface Host {
  /** Run argv; resolves with the exit code (non-zero does not throw; see `mustExec`). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Copy a local file onto the host. */
  copy(localPath: string, remotePath: string): Promise<void>;
  /** e.g. "multipass VM nanofaas-e2e" — used in logs, errors and the plan. */
  describe(): string;
  /** The exact local argv `exec` would start for `argv` — what `--dry-run` prints. */
  commandFor(argv: readonly string[], opts?: Pick<ExecOptions, 'env'>): string[];
  /** The exact local argv `copy` would start. */
  copyCommandFor(localPath: string, remotePath: string): string[];
}

export const DEFAULT_EXEC_TIMEOUT_MS = 900_000;
export const DEFAULT_HEARTBEAT_MS = 30_000;

/** How many trailing output lines an error shows. */
const TAIL_LINES = 20;

export function tail(text: string, lines = TAIL_LINES): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Display form of an argv (for plans and errors only; commands are never run through a shell). */
export function formatArgv(argv: readonly string[]): string {
  return argv
    .map(oneLine)
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

/** A multi-line in-VM script shown as one line (`a; b; c`) so errors and plans stay readable. */
function oneLine(arg: string): string {
  if (!arg.includes('\n')) return arg;
  return arg
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

/** The program a person would call the command by: `sudo env X=1 helm …` → helm. */
export function programName(argv: readonly string[]): string {
  return argv.find((a, i) => !(a === 'sudo' || a === 'env' || (i > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)))) ?? argv[0] ?? 'command';
}

/** A command that exited non-zero or timed out: carries what a person needs to act on it. */
export class CommandFailedError extends Error {
  readonly code = 'COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly result: ExecResult,
    readonly hint?: string,
  ) {
    const why = result.timedOut ? 'timed out' : `exited with ${result.exitCode}`;
    const out = tail([result.stdout, result.stderr].filter((s) => s.trim()).join('\n'));
    super(`${command} ${why}${out ? `\n--- last output ---\n${out}` : ''}${hint ? `\nhint: ${hint}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

/** exec that throws CommandFailedError on a non-zero exit; returns stdout. */
export async function mustExec(host: Host, argv: readonly string[], opts: ExecOptions & { hint?: string } = {}): Promise<string> {
  const result = await host.exec(argv, opts);
  if (result.exitCode !== 0 || result.timedOut) {
    throw new CommandFailedError(formatArgv(host.commandFor(argv, opts)), result, opts.hint);
  }
  return result.stdout;
}
