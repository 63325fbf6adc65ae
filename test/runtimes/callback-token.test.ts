/**
 * Runtime contract: CALLBACK_TOKEN. Each runtime sends `Authorization: Bearer <CALLBACK_TOKEN>` on
 * its `POST {CALLBACK_URL}/{id}:complete`, sends no Authorization header without it, and logs a
 * callback that did not get a 2xx (here a 401) with its status instead of dropping it silently.
 * A tiny local HTTP server stands in for the control plane; the runtimes are real processes.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, waitForHealth } from '../conformance/harness.js';
import { kill, launch, RUNTIME_NAMES, type Launched, type RuntimeName } from './launch.js';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Records every callback; answers `status` (204 unless a test sets 401). */
class FakeControlPlane {
  readonly received: Received[] = [];
  status = 204;
  private waiters: Array<{ url: string; resolve: (r: Received) => void }> = [];
  readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { url: req.url ?? '', headers: req.headers, body };
      this.received.push(r);
      res
        .writeHead(this.status, { 'content-type': 'application/json' })
        .end(this.status === 401 ? '{"error":"UNAUTHORIZED","message":"bad token"}' : undefined);
      for (const w of this.waiters.filter((w) => w.url === r.url)) w.resolve(r);
      this.waiters = this.waiters.filter((w) => w.url !== r.url);
    });
  });

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/internal/executions`;
  }

  /** The callback for this execution id (an event, whenever it arrives). */
  callbackFor(id: string): Promise<Received> {
    const url = `/v1/internal/executions/${id}:complete`;
    const seen = this.received.find((r) => r.url === url);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ url, resolve }));
  }
}

const cp = new FakeControlPlane();
const started: Launched[] = [];
beforeAll(async () => {
  cp.server.listen(0, '127.0.0.1');
  await once(cp.server, 'listening');
});
afterAll(async () => {
  await Promise.all(started.map((l) => kill(l, true)));
  cp.server.closeAllConnections();
  await new Promise((r) => cp.server.close(r));
});

async function start(
  runtime: RuntimeName,
  env: Record<string, string>,
  stdin: 'pipe' | 'ignore' = 'ignore',
): Promise<{ l: Launched; url: string }> {
  const port = await getPort({ host: '127.0.0.1' });
  const l = launch(runtime, { PORT: String(port), CALLBACK_URL: cp.base, ...env }, { stdin, detached: true });
  started.push(l);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, l.child, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${l.stderr()}`);
  });
  return { l, url };
}

describe.each(RUNTIME_NAMES)('%s runtime callbacks', (runtime) => {
  let rt: { l: Launched; url: string };
  beforeAll(async () => {
    rt = await start(runtime, { CALLBACK_TOKEN: `tok-${runtime}.A_b~1` });
  });

  it('send Authorization: Bearer <CALLBACK_TOKEN>', async () => {
    cp.status = 204;
    const id = `${runtime}-ok`;
    const res = await postJson(`${rt.url}/invoke`, { input: 'a b a' }, { 'x-execution-id': id });
    expect(res.status).toBe(200);
    const callback = await cp.callbackFor(id);
    expect(callback.headers.authorization).toBe(`Bearer tok-${runtime}.A_b~1`);
    expect(JSON.parse(callback.body)).toMatchObject({ status: 'success' });
  });

  it('log a callback answered 401, with its status and execution id', async () => {
    cp.status = 401;
    const id = `${runtime}-denied`;
    const res = await postJson(`${rt.url}/invoke`, { input: 'a b a' }, { 'x-execution-id': id });
    expect(res.status).toBe(200);
    await cp.callbackFor(id);
    const line = await rt.l.stderrLine(new RegExp(`callback.*${id}|${id}.*callback`));
    expect(line).toMatch(/401/);
    // The log names the failure, never the credential.
    expect(rt.l.stderr()).not.toContain(`tok-${runtime}`);
  });
});

describe.each(RUNTIME_NAMES)('%s runtime without CALLBACK_TOKEN', (runtime) => {
  it('sends no Authorization header', async () => {
    cp.status = 204;
    const { l, url } = await start(runtime, {});
    const id = `${runtime}-anonymous`;
    expect((await postJson(`${url}/invoke`, { input: 'x' }, { 'x-execution-id': id })).status).toBe(200);
    expect((await cp.callbackFor(id)).headers.authorization).toBeUndefined();
    await kill(l, true);
  });
});

describe('watchdog commands', () => {
  it('do not see CALLBACK_TOKEN or NANOFAAS_PARENT_PIPE', async () => {
    const { url } = await start(
      'watchdog',
      {
        CALLBACK_TOKEN: 'tok-watchdog-secret',
        EXECUTION_MODE: 'STDIO',
        NANOFAAS_PARENT_PIPE: 'stdin',
        WATCHDOG_CMD: JSON.stringify([process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))']),
      },
      'pipe',
    );
    const res = await postJson(`${url}/invoke`, { input: {} }, { 'x-execution-id': 'wd-env' });
    expect(res.status).toBe(200);
    const env = res.body as Record<string, string>;
    expect(env.NANOFAAS_EXECUTION_ID).toBe('wd-env');
    expect(env).not.toHaveProperty('CALLBACK_TOKEN');
    expect(env).not.toHaveProperty('NANOFAAS_PARENT_PIPE');
    expect(JSON.stringify(env)).not.toContain('tok-watchdog-secret');
  });
});
