/**
 * Node runtime behaviour beyond the vectors: the background completion callback and a graceful
 * SIGTERM that lets an in-flight invocation finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, repoRoot, waitForHealth } from '../conformance/harness.js';

const children: ChildProcess[] = [];
const servers: Server[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Runtime {
  url: string;
  child: ChildProcess;
  /** Resolves when the runtime has logged a line matching `pattern` (stderr, JSON lines). */
  logged(pattern: RegExp): Promise<void>;
}

async function runtime(handler: string, env: Record<string, string> = {}): Promise<Runtime> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = spawn(process.execPath, ['runtimes/node/dist/main.js'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), HANDLER: handler, FUNCTION_NAME: 'rt-test', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const check of [...watchers]) check();
  });
  const logged = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!pattern.test(stderr)) return;
        watchers.delete(check);
        resolve();
      };
      watchers.add(check);
      check();
    });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 15_000);
  return { url, child, logged };
}

/**
 * A handler that runs until the test lets it finish: it asks this server, which answers only on
 * release(). `reached` resolves once the handler is running.
 */
async function gatedHandler(): Promise<{ handler: string; env: Record<string, string>; reached: Promise<void>; release(): void }> {
  let held: ServerResponse | undefined;
  let released = false;
  let markReached!: () => void;
  const reached = new Promise<void>((r) => (markReached = r));
  const gate = createServer((_req, res) => {
    held = res;
    markReached();
    if (released) res.end('released');
  });
  servers.push(gate);
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'nanofaas-node-rt-'));
  dirs.push(dir);
  const handler = join(dir, 'gated.mjs');
  writeFileSync(
    handler,
    'export default async function gated() {\n  const res = await fetch(process.env.GATE_URL);\n  return { gate: await res.text() };\n}\n',
  );
  return {
    handler,
    env: { GATE_URL: `http://127.0.0.1:${(gate.address() as AddressInfo).port}/` },
    reached,
    release() {
      released = true;
      held?.end('released');
    },
  };
}

describe('node runtime', () => {
  it('posts the result to CALLBACK_URL/{id}:complete after answering', async () => {
    const received: Array<{ url: string; body: unknown }> = [];
    let notify!: () => void;
    const arrived = new Promise<void>((r) => (notify = r));
    const sink = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(204).end();
        if (received.length === 2) notify();
      });
    });
    servers.push(sink);
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/internal/executions`;
    const { url } = await runtime('functions/word-stats/node/dist/handler.js', { CALLBACK_URL: base });

    const ok = await postJson(`${url}/invoke`, { input: 'a b a' }, { 'x-execution-id': 'e-1', 'x-dispatch-attempt': '2' });
    const bad = await postJson(`${url}/invoke`, { input: 7 }, { 'x-execution-id': 'e-2' });
    expect([ok.status, bad.status]).toEqual([200, 400]);
    await arrived;
    const byUrl = Object.fromEntries(received.map((r) => [r.url, r.body]));
    expect(byUrl['/v1/internal/executions/e-1:complete']).toEqual({ attempt: 2, status: 'success', output: ok.body });
    expect(byUrl['/v1/internal/executions/e-2:complete']).toMatchObject({ attempt: 1, status: 'error', error: { error: 'INVALID_INPUT' } });
  });

  it('finishes an in-flight invocation on SIGTERM, then exits 0', async () => {
    const gated = await gatedHandler();
    const { url, child, logged } = await runtime(gated.handler, gated.env);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pending = postJson(`${url}/invoke`, { input: {} });
    // The handler is running, the runtime has taken the signal, and only then may the handler end.
    await gated.reached;
    child.kill('SIGTERM');
    await logged(/"msg":"shutting down"/);
    gated.release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ gate: 'released' });
    expect(await exited).toBe(0);
  });

  it('fails at startup with a clear message when HANDLER exports no function', async () => {
    const child = spawn(process.execPath, ['runtimes/node/dist/main.js'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', HANDLER: 'functions/catalog.json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('cannot load HANDLER=functions/catalog.json');
  });
});
