import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Invocation, InvocationResult } from '@nanofaas/runtime-node/kit';
import { killTree, spawnCommand } from '../process-group.js';
import { createSpares } from '../spares.js';
import { invocationEnv, resultFromExit, type ExitInfo, resultFromOutput, spawnFailure } from '../results.js';
import { Tail } from '../tail.js';
import type { Executor } from './executor.js';

export interface OneShotOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  maxOutputBytes: number;
  /** STDIO only: processes started ahead of need (WATCHDOG_PRESPAWN); 0 = each call starts its own. */
  prespawn?: number;
}

/**
 * STDIO: one process per invocation; the input JSON (just `input`, not the envelope) on stdin, the
 * output JSON on stdout. Execution id, trace id, attempt and metadata arrive as NANOFAAS_* env vars,
 * except in a process started ahead (prespawn), which cannot know them when it starts.
 */
export function stdioExecutor(options: OneShotOptions): Executor {
  const running = new Set<ChildProcess>();
  const spares =
    (options.prespawn ?? 0) > 0
      ? createSpares(options.prespawn!, () => spawnCommand(options.argv, options.env, ['pipe', 'pipe', 'pipe']))
      : undefined;
  spares?.refill();
  return {
    invoke: async (inv) => {
      const run = await runOnce(options, inv, 'stdio', running, spares && { child: spares.take(), afterInput: spares.refill });
      return 'ok' in run ? run : resultFromExit(run);
    },
    close: async () => {
      spares?.close();
      killAll(running);
    },
  };
}

/**
 * FILE: the input JSON is written to $INPUT_FILE; the command writes its output JSON to
 * $OUTPUT_FILE (stdout is ignored). Both live in a private temp directory removed afterwards.
 */
export function fileExecutor(options: OneShotOptions): Executor {
  const running = new Set<ChildProcess>();
  return {
    async invoke(inv) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'nanofaas-watchdog-'));
      try {
        const inputFile = path.join(dir, 'input.json');
        const outputFile = path.join(dir, 'output.json');
        await writeFile(inputFile, JSON.stringify(inv.input ?? null));
        const env = { ...options.env, INPUT_FILE: inputFile, OUTPUT_FILE: outputFile };
        const run = await runOnce({ ...options, env }, inv, 'file', running);
        if ('ok' in run) return run;
        if (run.code !== 0) return resultFromExit(run);
        let text: string;
        try {
          text = await readFile(outputFile, 'utf8');
        } catch {
          return { ok: false, code: 'FUNCTION_ERROR', message: 'the command exited 0 but wrote no OUTPUT_FILE' };
        }
        if (Buffer.byteLength(text) > options.maxOutputBytes) {
          return { ok: false, code: 'FUNCTION_ERROR', message: `OUTPUT_FILE exceeds WATCHDOG_MAX_OUTPUT_BYTES=${options.maxOutputBytes}` };
        }
        return resultFromOutput(text, 'OUTPUT_FILE');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    close: async () => killAll(running),
  };
}

/**
 * close() comes after the server's drain period: a command still running then would outlive the
 * watchdog wherever nothing sweeps its process group (e.g. a watchdog started by hand).
 */
function killAll(running: Set<ChildProcess>): void {
  for (const child of running) killTree(child);
}

/**
 * Runs the command to completion: how it exited, or a failure result when it never ran properly.
 * `spare` is a live process started ahead (STDIO prespawn) to use instead of starting one;
 * `afterInput` runs once the input is handed over (the next spare is started then, off this call's path).
 */
function runOnce(
  options: OneShotOptions,
  inv: Invocation,
  kind: 'stdio' | 'file',
  running: Set<ChildProcess>,
  spare?: { child: ChildProcess | undefined; afterInput: () => void },
): Promise<ExitInfo | InvocationResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    if (spare?.child) child = spare.child;
    else {
      try {
        // stdin is this invocation's own pipe (or /dev/null), never the watchdog's own stdin.
        child = spawnCommand(options.argv, invocationEnv(options.env, inv), [kind === 'stdio' ? 'pipe' : 'ignore', 'pipe', 'pipe']);
      } catch (err) {
        return resolve(spawnFailure(options.argv, err as NodeJS.ErrnoException));
      }
    }
    running.add(child);
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    const stderr = new Tail();
    let spawnError: NodeJS.ErrnoException | undefined;

    const onAbort = () => killTree(child);
    inv.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) {
        if (!overflow) killTree(child);
        overflow = true;
      } else if (kind === 'stdio') stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => (spawnError = err));
    if (child.stdin) {
      // A command that exits without reading its stdin makes this write fail with EPIPE: not an error.
      child.stdin.on('error', () => {});
      child.stdin.end(JSON.stringify(inv.input ?? null));
    }
    if (spare) setImmediate(spare.afterInput);
    child.on('close', (code, signal) => {
      running.delete(child);
      inv.signal.removeEventListener('abort', onAbort);
      if (spawnError && child.pid === undefined) return resolve(spawnFailure(options.argv, spawnError));
      if (overflow) {
        return resolve({
          ok: false,
          code: 'FUNCTION_ERROR',
          message: `stdout exceeds WATCHDOG_MAX_OUTPUT_BYTES=${options.maxOutputBytes}`,
        });
      }
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderrTail: stderr.text() });
    });
  });
}
