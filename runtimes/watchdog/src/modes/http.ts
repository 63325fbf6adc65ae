import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { InvocationResult, Logger } from '@nanofaas/runtime-node/kit';
import getPort from 'get-port';
import { killTree, spawnCommand } from '../process-group.js';
import { resultFromOutput } from '../results.js';
import { Tail } from '../tail.js';
import type { Executor } from './executor.js';

export interface HttpModeOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** How long to wait for the command's server to accept connections. */
  startupTimeoutMs?: number;
}

/**
 * HTTP: the command is itself an HTTP server. It gets PORT (a free loopback port) and must answer
 * POST /invoke with the contract of docs/design.md §5; the watchdog forwards the request envelope and maps the answer
 * (200 → output, 400 → INVALID_INPUT, else FUNCTION_ERROR). It is restarted if it dies.
 */
export async function httpExecutor(options: HttpModeOptions): Promise<Executor> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let port = 0;
  let child: ChildProcess | undefined;
  let ready: Promise<void> = Promise.resolve();
  let closed = false;
  /** The first start listened: from then on a command that ends is restarted. */
  let started = false;
  const stderr = new Tail();

  const start = async () => {
    port = await getPort({ host: '127.0.0.1' });
    const proc = spawnCommand(options.argv, { ...options.env, PORT: String(port), HOST: '127.0.0.1' }, ['ignore', 'inherit', 'pipe']);
    child = proc;
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      process.stderr.write(chunk);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) => {
        if (child === proc) child = undefined;
        if (!closed && started) {
          options.logger('warn', 'http command ended; restarting', { code, signal });
          ready = start();
          ready.catch(() => {});
        }
        reject(new Error(`the command exited (${signal ?? code}) before listening: ${stderr.text()}`));
      }),
    );
    proc.once('error', (err) => options.logger('error', 'http command failed to start', { error: err.message }));
    try {
      await Promise.race([waitForPort(port, options.startupTimeoutMs ?? 10_000), exited]);
    } catch (err) {
      // A command that never listens must not outlive this attempt (its exit restarts it, once
      // the first start has succeeded; before that the watchdog fails to start).
      killTree(proc);
      throw err;
    }
    started = true;
  };

  ready = start();
  await ready;

  return {
    async invoke(inv) {
      try {
        await ready;
      } catch (err) {
        return { ok: false, code: 'FUNCTION_ERROR', message: (err as Error).message };
      }
      const body = JSON.stringify({ input: inv.input ?? null, metadata: inv.metadata });
      return new Promise<InvocationResult>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/invoke',
            method: 'POST',
            agent,
            signal: inv.signal,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'x-execution-id': inv.executionId,
              'x-trace-id': inv.traceId,
              'x-dispatch-attempt': String(inv.attempt),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode === 200) return resolve(resultFromOutput(text, 'HTTP response'));
              const code = res.statusCode === 400 ? 'INVALID_INPUT' : 'FUNCTION_ERROR';
              resolve({ ok: false, code, message: messageOf(text) || `the command answered HTTP ${res.statusCode}` });
            });
          },
        );
        req.on('error', (err) =>
          resolve({ ok: false, code: 'FUNCTION_ERROR', message: `cannot reach the command's server: ${err.message}` }),
        );
        req.end(body);
      });
    },
    async close() {
      closed = true;
      agent.destroy();
      if (child) {
        const proc = child;
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => killTree(proc), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : text.slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}

/** Startup only (not the request path): retry a TCP connect until the command listens. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the command did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
