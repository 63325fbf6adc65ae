// The chart's registration script (helm/nanofaas/files/register.mjs) run with node against a small
// stand-in control plane on 127.0.0.1 whose answers each test scripts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CHART, removeScratch } from './helm.js';

const SCRIPT = path.join(CHART, 'files/register.mjs');
const specs = [
  { name: 'word-stats-python', image: 'localhost:5000/nanofaas/word-stats-python:0.1.0', runtimeMode: 'HTTP' },
  { name: 'word-stats-exec', image: 'localhost:5000/nanofaas/word-stats-exec:0.1.0', runtimeMode: 'STDIO' },
];

interface Seen {
  method: string;
  url: string;
  auth?: string;
  body?: any;
}

let server: Server | undefined;
afterAll(() => removeScratch());
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function controlPlane(answer: (seen: Seen, count: number) => [number, unknown]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    for await (const c of req) text += c;
    const s: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    };
    if (text) s.body = JSON.parse(text);
    seen.push(s);
    const [status, body] = answer(s, seen.filter((x) => x.url === s.url && x.body?.name === s.body?.name).length);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

function runHook(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nanofaas-hook-'));
  const file = path.join(dir, 'functions.json');
  writeFileSync(file, JSON.stringify(specs));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], {
      env: { PATH: process.env.PATH ?? '', FUNCTIONS_FILE: file, WAIT_SECONDS: '20', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? 1, out });
    });
  });
}

describe('registration hook script', () => {
  it('waits for readiness, registers new functions, treats 409 as already registered, retries a 503', async () => {
    let readyChecks = 0;
    const cp = await controlPlane((s, n) => {
      if (s.url === '/readyz') return ++readyChecks < 2 ? [503, { status: 'starting' }] : [200, { status: 'ready' }];
      if (s.body?.name === 'word-stats-python')
        return n === 1 ? [503, { error: 'BACKEND_UNAVAILABLE', message: 'api down' }] : [201, s.body];
      return [409, { error: 'FUNCTION_EXISTS', message: 'function word-stats-exec already exists' }];
    });
    const r = await runHook({ NANOFAAS_URL: cp.url, NANOFAAS_READY_URL: `${cp.url}/readyz`, NANOFAAS_API_TOKEN: 's3cret' });
    expect(r.out).toMatch(/word-stats-python: registered/);
    expect(r.out).toMatch(/word-stats-exec: already registered/);
    expect(r.out).toMatch(/2\/2 functions registered/);
    expect(r.code).toBe(0);
    expect(readyChecks).toBe(2);
    const posts = cp.seen.filter((s) => s.method === 'POST');
    expect(posts.map((p) => [p.url, p.body.name])).toEqual([
      ['/v1/functions', 'word-stats-python'],
      ['/v1/functions', 'word-stats-python'],
      ['/v1/functions', 'word-stats-exec'],
    ]);
    expect(posts[0]!.body).toEqual(specs[0]);
    expect(posts.every((p) => p.auth === 'Bearer s3cret')).toBe(true);
  });

  it('fails (exit 1) when the control plane rejects a spec, after trying the others', async () => {
    const cp = await controlPlane((s) => {
      if (s.url === '/readyz') return [200, {}];
      if (s.body?.name === 'word-stats-python') return [400, { error: 'VALIDATION_ERROR', message: 'bad image' }];
      return [201, s.body];
    });
    const r = await runHook({ NANOFAAS_URL: cp.url, NANOFAAS_READY_URL: `${cp.url}/readyz` });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/word-stats-python: FAILED 400 .*bad image/);
    expect(r.out).toMatch(/word-stats-exec: registered/);
    expect(r.out).toMatch(/1\/2 functions registered/);
  });

  it('reads the token from NANOFAAS_API_TOKEN_FILE (the mounted Secret) and sends it on every call', async () => {
    const cp = await controlPlane((s) => {
      if (s.url === '/readyz') return [200, {}];
      return s.auth === 'Bearer from-the-secret'
        ? [201, s.body]
        : [401, { error: 'UNAUTHORIZED', message: 'missing or wrong bearer token' }];
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nanofaas-hook-token-'));
    try {
      writeFileSync(path.join(dir, 'token'), 'from-the-secret\n');
      const r = await runHook({
        NANOFAAS_URL: cp.url,
        NANOFAAS_READY_URL: `${cp.url}/readyz`,
        NANOFAAS_API_TOKEN_FILE: path.join(dir, 'token'),
      });
      expect(r.out).toMatch(/2\/2 functions registered/);
      expect(r.code).toBe(0);
      expect(cp.seen.filter((s) => s.method === 'POST').map((s) => s.auth)).toEqual(['Bearer from-the-secret', 'Bearer from-the-secret']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreadable token file stops it (exit 2) naming the variable; a 401 is a failure, not a retry', async () => {
    const cp = await controlPlane((s) =>
      s.url === '/readyz' ? [200, {}] : [401, { error: 'UNAUTHORIZED', message: 'missing or wrong bearer token' }],
    );
    const missing = await runHook({ NANOFAAS_URL: cp.url, NANOFAAS_API_TOKEN_FILE: '/nonexistent/token' });
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/cannot read the API token from NANOFAAS_API_TOKEN_FILE=\/nonexistent\/token: ENOENT/);
    const unauthorized = await runHook({ NANOFAAS_URL: cp.url, NANOFAAS_READY_URL: `${cp.url}/readyz` });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.out).toMatch(/word-stats-python: FAILED 401 .*UNAUTHORIZED/);
    expect(cp.seen.filter((s) => s.method === 'POST')).toHaveLength(2);
  });

  it('without NANOFAAS_URL it stops with a usage error', async () => {
    const r = await runHook({});
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/NANOFAAS_URL is not set/);
  });
});
