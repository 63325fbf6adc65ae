import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { loadExeca } from './execa.js';
import { superviseGroup } from './process-group.js';

/** Quote an argv for display only (it is never given to a shell). */
export function displayCommand(command: string, args: readonly string[] = []): string {
  return [command, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  /** The program's whole environment (default: this process's); with `extendEnv`, added to this process's. */
  env?: NodeJS.ProcessEnv;
  extendEnv?: boolean;
  timeoutMs?: number;
  input?: string;
  /** Each output line as it arrives (stdout and stderr interleaved), without its line ending. */
  onLine?: (line: string) => void;
  /** Stop the program (and what it started in its group) when this aborts, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/**
 * An execa transform for stdout/stderr: hands each line to `onLine` as it ends (and the last one
 * when the stream ends, terminated or not), and passes it on unchanged. `raw` keeps the line ending.
 */
export function eachLine(onLine: (line: string, raw: string) => void) {
  return {
    *transform(chunk: unknown) {
      const raw = String(chunk);
      onLine(raw.replace(/\r?\n$/, ''), raw);
      yield raw;
    },
    preserveNewlines: true,
  };
}

/**
 * A stdout/stderr option that makes a detached program write to an open file itself, with no pipe
 * through this CLI, so its log keeps working after the CLI exits. execa hands a descriptor number
 * to the program as is; its types only spell out the low numbers.
 */
export function writeToFd(fd: number): 3 {
  return fd as 3;
}

/** How long a program told to stop (timeout, Ctrl-C) has to exit before it is killed. */
export const FORCE_KILL_AFTER_MS = 3_000;

/** Exit code for a program that could not be started at all (not found, not executable), as a shell reports it. */
const NOT_STARTED = 127;
/** Exit code for a program ended by a signal. */
const SIGNALLED = 128;

/**
 * Run a program to completion with execa, capturing its output. argv only — never a shell. A
 * non-zero exit, a timeout or a program that cannot start is a result, not an exception.
 */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { onLine, timeoutMs, signal } = options;
  const tap = onLine ? eachLine(onLine) : 'pipe';
  const { execa } = await loadExeca();
  const started = Date.now();
  const subprocess = execa(command, args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: options.env ?? process.env,
    extendEnv: options.extendEnv ?? false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stdout: tap,
    stderr: tap,
    // Its own process group: see process-group.ts.
    detached: true,
    ...(timeoutMs ? { timeout: timeoutMs } : {}),
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    ...(signal ? { cancelSignal: signal } : {}),
    stripFinalNewline: false,
    reject: false,
  });
  superviseGroup(subprocess, () => signal?.aborted === true || (timeoutMs !== undefined && Date.now() - started >= timeoutMs));
  const result = await subprocess;
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.exitCode !== undefined) return { exitCode: result.exitCode, stdout, stderr, timedOut: result.timedOut };
  if (result.signal !== undefined) return { exitCode: SIGNALLED, stdout, stderr, timedOut: result.timedOut };
  return { exitCode: NOT_STARTED, stdout, stderr: stderr + result.originalMessage, timedOut: result.timedOut };
}

export { isAlive, killGroup, stopGroup, waitForExit } from './process-group.js';

/** Resolve a program on PATH (or an absolute/relative path), like `which`. */
export function which(bin: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = bin.includes('/')
    ? [bin]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, bin));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return isAbsolute(candidate) ? candidate : join(process.cwd(), candidate);
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
