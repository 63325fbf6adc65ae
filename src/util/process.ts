import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

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
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
  /** Each output line as it arrives (stdout and stderr interleaved). */
  onLine?: (line: string) => void;
  /** Stop the program's whole group (SIGTERM) when this aborts, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/** Run a program to completion, capturing its output. argv only — never a shell. */
export function runProgram(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const split = (append: (s: string) => void) => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        append(text);
        if (!options.onLine) return;
        const parts = (partial + text).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) options.onLine(line);
      };
    };
    child.stdout?.on(
      'data',
      split((s) => (stdout += s)),
    );
    child.stderr?.on(
      'data',
      split((s) => (stderr += s)),
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    // Kill the whole group on timeout: build tools (npm, mvn) leave grandchildren otherwise.
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          killGroup(child.pid, 'SIGKILL');
        }, options.timeoutMs)
      : undefined;
    // Detached, the program does not get the terminal's Ctrl-C itself: pass it on.
    const onAbort = () => killGroup(child.pid, 'SIGTERM');
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('exit', () => options.signal?.removeEventListener('abort', onAbort));
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: 127, stdout, stderr: stderr + String(error.message), timedOut });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
  });
}

/** Signal a process group (negative pid); falls back to the single process. Returns false if gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); it is dead for our purposes.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/<pid>/stat: "pid (comm) S …" — comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Wait until the process is gone, up to timeoutMs. Shutdown path only, not a hot path. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  return true;
}

/** SIGTERM the group, wait for a grace period, then SIGKILL. Resolves true if it had been running. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  killGroup(pid, 'SIGTERM');
  if (!(await waitForExit(pid, graceMs))) {
    killGroup(pid, 'SIGKILL');
    await waitForExit(pid, 2_000);
  }
  return true;
}

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
