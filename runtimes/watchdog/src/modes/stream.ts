import type { ChildProcess } from 'node:child_process';
import type { InvocationResult, Logger } from '@nanofaas/runtime-node/kit';
import { killTree, spawnCommand } from '../process-group.js';
import { spawnFailure } from '../results.js';
import { Tail } from '../tail.js';
import type { Executor } from './executor.js';

export interface StreamOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  maxOutputBytes: number;
  logger: Logger;
  /** Delay before restarting a process that died within a second of starting (crash loop). */
  restartBackoffMs?: number;
}

type Pending = (result: InvocationResult) => void;

/**
 * STREAM: one long-lived process. Each invocation writes its input as one JSON line to stdin and
 * takes the next stdout line as its output, so answers pair with requests strictly in order. A
 * line shaped exactly like a runtime error body (docs/design.md §5.3) — {"error":"INVALID_INPUT"|"FUNCTION_ERROR","message":…}
 * — is reported as that error. If the process dies, the invocations waiting on it fail and it is
 * restarted; a timeout kills it (its line order can no longer be trusted) and so fails the others
 * in flight too.
 */
export function streamExecutor(options: StreamOptions): Executor & { readonly pid: number | undefined } {
  let child: ChildProcess | undefined;
  let pending: Pending[] = [];
  let partial = '';
  let stderr = new Tail();
  let startedAt = 0;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = () => {
    restartTimer = undefined;
    startedAt = Date.now();
    stderr = new Tail();
    partial = '';
    let proc: ChildProcess;
    try {
      proc = spawnCommand(options.argv, options.env, ['pipe', 'pipe', 'pipe']);
    } catch (err) {
      options.logger('error', 'stream command failed to start', { error: (err as Error).message });
      return scheduleRestart();
    }
    child = proc;
    proc.stdin!.on('error', () => {}); // EPIPE after a crash; 'exit' reports it
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => onStdout(chunk));
    proc.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    proc.on('error', (err: NodeJS.ErrnoException) => {
      if (proc.pid === undefined) {
        failAll(spawnFailure(options.argv, err));
        child = undefined;
        scheduleRestart();
      }
    });
    proc.on('exit', (code, signal) => {
      if (child !== proc) return;
      child = undefined;
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = stderr.text();
      failAll({ ok: false, code: 'FUNCTION_ERROR', message: `the stream process ${why}${tail ? `: ${tail}` : ''}` });
      if (!closed) {
        options.logger('warn', 'stream process ended; restarting', { code, signal });
        scheduleRestart();
      }
    });
  };

  const scheduleRestart = () => {
    if (closed || restartTimer) return;
    const crashLoop = Date.now() - startedAt < 1000;
    restartTimer = setTimeout(start, crashLoop ? (options.restartBackoffMs ?? 500) : 0);
  };

  const onStdout = (chunk: string) => {
    partial += chunk;
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const line = partial.slice(0, newline).trim();
      partial = partial.slice(newline + 1);
      newline = partial.indexOf('\n');
      if (line === '') continue;
      const resolve = pending.shift();
      if (!resolve) {
        options.logger('warn', 'stream process wrote a line nobody asked for', { line: line.slice(0, 200) });
        continue;
      }
      resolve(resultFromLine(line));
    }
    if (partial.length > options.maxOutputBytes) {
      options.logger('error', 'stream output line too long; killing the process', { bytes: partial.length });
      if (child) killTree(child);
    }
  };

  const failAll = (result: InvocationResult) => {
    const waiting = pending;
    pending = [];
    for (const resolve of waiting) resolve(result);
  };

  start();

  return {
    get pid() {
      return child?.pid;
    },
    invoke(inv) {
      return new Promise<InvocationResult>((resolve) => {
        const proc = child;
        if (!proc || proc.pid === undefined || !proc.stdin!.writable) {
          return resolve({ ok: false, code: 'FUNCTION_ERROR', message: 'the stream process is not running (restarting)' });
        }
        const onAbort = () => killTree(proc);
        inv.signal.addEventListener('abort', onAbort, { once: true });
        pending.push((result) => {
          inv.signal.removeEventListener('abort', onAbort);
          resolve(result);
        });
        // JSON.stringify never emits a raw newline, so one input is exactly one line.
        proc.stdin!.write(`${JSON.stringify(inv.input ?? null)}\n`);
      });
    },
    async close() {
      closed = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (!proc) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.stdin!.end();
      const timer = setTimeout(() => killTree(proc), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function resultFromLine(line: string): InvocationResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, code: 'FUNCTION_ERROR', message: `the stream process wrote a non-JSON line: ${line.slice(0, 200)}` };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { error, message, ...rest } = value as Record<string, unknown>;
    if ((error === 'INVALID_INPUT' || error === 'FUNCTION_ERROR') && typeof message === 'string' && Object.keys(rest).length === 0) {
      return { ok: false, code: error, message };
    }
  }
  return { ok: true, body: line };
}
