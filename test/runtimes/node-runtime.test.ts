/**
 * Node runtime behaviour beyond the vectors: the background completion callback and a graceful
 * SIGTERM that lets an in-flight invocation finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, repoRoot, waitForHealth } from '../conformance/harness.js';

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function runtime(handler: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = spawn(process.execPath, ['runtimes/node/dist/main.js'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), HANDLER: handler, FUNCTION_NAME: 'rt-test', ...env },
    stdio: 'ignore',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 15_000);
  return { url, child };
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
    const { url, child } = await runtime('test/conformance/fixtures/node/slow.mjs');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pending = postJson(`${url}/invoke`, { input: { sleepMs: 400 } });
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ slept: 400 });
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
