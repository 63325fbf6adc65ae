/**
 * Run the built CLI (`bin/nanofaas`) as a real process: plainly (pipes), or inside a real
 * pseudo-terminal through util-linux `script`, where a \x03 written to its input is a real Ctrl-C
 * (the terminal's line discipline turns it into SIGINT for the foreground process group).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT_DIR } from '../../src/util/paths.js';

const BIN = join(ROOT_DIR, 'bin', 'nanofaas');

/** A small, explicit environment, so nothing from the test runner's leaks into the CLI. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', SKIP_GRAFANA: 'true', ...extra };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function nanofaas(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv({ CI: 'true' })): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': at exit the last output may still be in the pipes.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Single-quote for the `sh -c` line `script` runs; the test's own fixed paths, never user input. */
function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface PtyRun {
  child: ChildProcessWithoutNullStreams;
  /** Everything the terminal showed so far (stdout and stderr both go to the terminal). */
  output(): string;
  /** Resolves once the output matches (the event a test acts on). */
  until(pattern: RegExp): Promise<void>;
  /** Type Ctrl-C into the terminal. */
  interrupt(): void;
  exit: Promise<number | null>;
}

/** Run `nanofaas <args>` in a pseudo-terminal `columns` wide (0 = what `script` reports by default). */
export function nanofaasInPty(args: readonly string[], options: { columns: number; env: NodeJS.ProcessEnv }): PtyRun {
  return inPty([process.execPath, BIN, ...args], options);
}

/** Run a program in a pseudo-terminal `columns` wide. */
export function inPty(argv: readonly string[], options: { columns: number; env: NodeJS.ProcessEnv }): PtyRun {
  const line = `stty cols ${options.columns} rows 50; exec ${argv.map(shq).join(' ')}`;
  const child = spawn('script', ['-qfec', line, '/dev/null'], { cwd: ROOT_DIR, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
    check();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
    check();
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    until(pattern) {
      return new Promise((resolve, reject) => {
        if (pattern.test(output)) return resolve();
        waiters.push({ pattern, resolve });
        // A run that ends without ever showing the pattern fails the wait instead of hanging it.
        void exit.then(() => (pattern.test(output) ? resolve() : reject(new Error(`exited before ${pattern}; output:\n${output}`))));
      });
    },
    interrupt() {
      child.stdin.write('\x03');
    },
    exit,
  };
}

/** sha256 of every file under `dir` (relative path → hash; directories too), skipping paths `ignore` accepts. */
export function hashTree(dir: string, ignore: (path: string) => boolean = () => false): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const rel = relative(dir, path);
      if (ignore(rel)) continue;
      if (entry.isDirectory()) {
        // A directory a dry run created is a change too.
        hashes[`${rel}/`] = 'directory';
        walk(path);
      } else hashes[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return hashes;
}
