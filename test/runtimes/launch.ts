/**
 * The four runtimes as real processes, started directly (not through the process backend) so a
 * test controls their exact environment and stdio: node, the watchdog, Debian's python3, java -jar.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '../conformance/harness.js';

export type RuntimeName = 'node' | 'watchdog' | 'python' | 'java';
export const RUNTIME_NAMES: readonly RuntimeName[] = ['node', 'watchdog', 'python', 'java'];

interface Command {
  command: string;
  args: string[];
  env: Record<string, string>;
}

const COMMANDS: Record<RuntimeName, Command> = {
  node: { command: process.execPath, args: ['runtimes/node/dist/main.js'], env: { HANDLER: 'functions/word-stats/node/dist/handler.js' } },
  watchdog: {
    command: process.execPath,
    args: ['runtimes/watchdog/dist/main.js'],
    env: { WATCHDOG_CMD: 'gojq -c -f functions/word-stats/exec/handler.jq' },
  },
  python: {
    command: '/usr/bin/python3',
    args: ['-m', 'nanofaas_runtime'],
    env: { PYTHONPATH: 'runtimes/python', PYTHONUNBUFFERED: '1', HANDLER: 'functions/word-stats/python/handler.py:handle' },
  },
  java: {
    command: 'java',
    args: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-jar', 'runtimes/java/runtime/target/nanofaas-runtime.jar'],
    env: { HANDLER: 'functions/word-stats/java/target/word-stats.jar#dev.nanofaas.functions.WordStats' },
  },
};

/** A word-stats replica; `env` is added last, so it can override HANDLER/WATCHDOG_CMD too. */
export interface Launched {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stderr line matching `pattern` (or rejects when the process exits first). */
  stderrLine(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function launch(
  runtime: RuntimeName,
  env: Record<string, string>,
  options: { stdin?: 'pipe' | 'ignore'; detached?: boolean } = {},
): Launched {
  const spec = COMMANDS[runtime];
  const stdio: StdioOptions = [options.stdin ?? 'ignore', 'pipe', 'pipe'];
  const child = spawn(spec.command, spec.args, {
    cwd: repoRoot,
    // Only what a runtime needs: the test's own environment must not leak CALLBACK_* or PORT in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...spec.env, ...env },
    stdio,
    detached: options.detached ?? false,
  });
  let out = '';
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of [...waiters]) {
      const line = err.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  void exited.then(({ code, signal }) => {
    for (const w of waiters.splice(0))
      w.reject(new Error(`${runtime} exited (${signal ?? code}) before printing ${w.pattern}; stderr:\n${err}`));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrLine(pattern) {
      const line = err.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return Promise.resolve(line);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`${runtime} has exited; stderr:\n${err}`));
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
  };
}

/** SIGKILL a launched runtime (its whole group when detached) unless it has already exited. */
export async function kill(l: Launched, group = false): Promise<void> {
  if (l.child.exitCode !== null || l.child.signalCode !== null) return;
  try {
    if (group && l.child.pid) process.kill(-l.child.pid, 'SIGKILL');
    else l.child.kill('SIGKILL');
  } catch {
    l.child.kill('SIGKILL');
  }
  await l.exited;
}
