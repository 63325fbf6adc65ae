/**
 * Stalled requests time out with 408 REQUEST_TIMEOUT in the JSON format and are
 * closed, healthy calls go on meanwhile, a request that was fully received is never cut by the
 * request timeout however long its function runs, and the number of connections is capped.
 * Every wait is on an event (an answer, a socket 'close', a request reaching the runtime).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, startControlPlane, until, type RunningControlPlane } from './helpers.js';
import { head, openRaw, portOf, type RawConnection } from './http-edge-raw.js';

const REQUEST_TIMEOUT_MS = 1500;
const STALLED = 64;

let fixture: FixtureRuntime;
let cp: RunningControlPlane;

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'pool', NANOFAAS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  const registered = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'target', endpointUrl: fixture.url, timeoutMs: 60_000 });
  expect(registered.status).toBe(201);
});

afterAll(async () => {
  await cp?.stop();
  await fixture?.close();
  if (cp) removeDir(cp.stateDir);
});

/** Headers and the first bytes of a body, then silence. */
function stalledRequest(i: number): { port: number; bytes: string } {
  const api = portOf(cp.apiUrl);
  const json = { 'Content-Type': 'application/json' };
  switch (i % 4) {
    case 0: // the sync-invoke fast path
      return { port: api, bytes: head('POST', '/v1/functions/target:invoke', { ...json, 'Content-Length': 100 }) + '{"input":' };
    case 1: // a Fastify route
      return { port: api, bytes: head('POST', '/v1/functions', { ...json, 'Content-Length': 100 }) + '{"name":' };
    case 2: // chunked, half a chunk
      return {
        port: api,
        bytes: head('POST', '/v1/functions/target:enqueue', { ...json, 'Transfer-Encoding': 'chunked' }) + '40\r\n{"input":',
      };
    default: // the management port reads (and limits) bodies too
      return { port: portOf(cp.managementUrl), bytes: head('GET', '/healthz', { 'Content-Length': 100 }) + 'x' };
  }
}

describe('request timeouts', () => {
  it(`${STALLED} stalled bodies each get 408 REQUEST_TIMEOUT and are closed, while healthy calls go on`, async () => {
    const stalled: RawConnection[] = [];
    let closed = 0;
    for (let i = 0; i < STALLED; i++) {
      const { port, bytes } = stalledRequest(i);
      const conn = openRaw(port);
      void conn.closed.then(() => closed++);
      stalled.push(conn);
      await conn.write(bytes);
    }

    let openWhenFirstHealthyAnswered: number | undefined;
    const healthy = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const answer =
          i % 4 === 3
            ? await call(cp.managementUrl, 'GET', '/healthz')
            : await call(cp.apiUrl, 'POST', '/v1/functions/target:invoke', { input: { i } });
        openWhenFirstHealthyAnswered ??= STALLED - closed;
        return answer.status;
      }),
    );
    expect(healthy).toEqual(Array.from({ length: 16 }, () => 200));
    // The stalls were all still held when the server answered the healthy calls.
    expect(openWhenFirstHealthyAnswered).toBe(STALLED);

    const ends = await Promise.all(stalled.map((conn) => conn.closed));
    const failures: string[] = [];
    stalled.forEach((conn, i) => {
      const answer = conn.responses[0];
      const ok =
        conn.responses.length === 1 &&
        answer?.status === 408 &&
        answer.json?.error === 'REQUEST_TIMEOUT' &&
        typeof answer.json?.message === 'string' &&
        answer.headers.connection === 'close' &&
        ends[i]!.error === undefined;
      if (!ok) failures.push(`#${i} (${stalledRequest(i).bytes.split(' ', 2).join(' ')}): ${JSON.stringify(ends[i])}`);
    });
    expect(failures).toEqual([]);
    expect(stalled[0]!.responses[0]!.json.message).toContain(`within ${REQUEST_TIMEOUT_MS} ms`);

    // Still serving.
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/target:invoke', { input: 'after' })).status).toBe(200);
  });

  it('headers that never finish, and a connection that sends nothing, get 408 too (both ports)', async () => {
    const conns = await Promise.all(
      [cp.apiUrl, cp.managementUrl].flatMap((url) => {
        const partial = openRaw(portOf(url));
        const silent = openRaw(portOf(url));
        return [partial.write('GET /v1/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ').then(() => partial), Promise.resolve(silent)];
      }),
    );
    for (const conn of conns) {
      const end = await conn.closed;
      expect(end.error).toBeUndefined();
      expect(conn.responses.map((r) => [r.status, r.json?.error])).toEqual([[408, 'REQUEST_TIMEOUT']]);
      expect(conn.responses[0]!.json.message).toContain('headers');
    }
  });

  it('never cuts a request that was fully received, however long the function runs', async () => {
    // The invocation is held at the runtime; a stalled request opened after it is the clock: once
    // that one has timed out, the invocation's request is older than the request timeout.
    const invocation = request(`${cp.apiUrl}/v1/functions/target:invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { gate: 'long-call' } }),
    });
    let settled = false;
    void invocation.then(
      () => (settled = true),
      () => (settled = true),
    );
    await fixture.received(onGate('long-call'));

    const clock = openRaw(portOf(cp.apiUrl));
    await clock.write(head('POST', '/v1/functions', { 'Content-Type': 'application/json', 'Content-Length': 10 }));
    await clock.closed;
    expect(clock.responses[0]?.status).toBe(408);
    expect(settled).toBe(false);

    fixture.openGate('long-call');
    const answer = await invocation;
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.json()).toMatchObject({ status: 'success', output: { ok: true, input: { gate: 'long-call' } } });
  });
});

describe('connection cap', () => {
  const CAP = 4;
  let capped: RunningControlPlane;

  beforeAll(async () => {
    capped = await startControlPlane({ NANOFAAS_MAX_CONNECTIONS: String(CAP) });
  });
  afterAll(async () => {
    await capped?.stop();
    if (capped) removeDir(capped.stateDir);
  });

  /** A keep-alive connection that has had one answer, so the server has surely counted it. */
  async function served(port: number, path: string): Promise<RawConnection | undefined> {
    const conn = openRaw(port);
    const wrote = conn.write(head('GET', path)).then(
      () => true,
      () => false,
    );
    const answer = await conn.nextResponse();
    await wrote;
    if (answer?.status !== 200) {
      conn.socket.destroy();
      return undefined;
    }
    return conn;
  }

  for (const which of ['API', 'management'] as const) {
    it(`${which} port: past ${CAP} open connections new ones are closed unanswered; a freed slot serves again`, async () => {
      const url = which === 'API' ? capped.apiUrl : capped.managementUrl;
      const path = which === 'API' ? '/v1/functions' : '/healthz';
      const port = portOf(url);
      const held: RawConnection[] = [];
      for (let i = 0; i < CAP; i++) {
        const conn = await served(port, path);
        expect(conn, `connection ${i + 1} of ${CAP}`).toBeDefined();
        held.push(conn!);
      }

      const extra = openRaw(port);
      await extra.write(head('GET', path)).catch(() => undefined);
      const end = await extra.closed;
      expect(extra.responses).toEqual([]);
      expect(end.received).toBe('');

      // The server learns of a closed connection asynchronously, so a retry may still be refused.
      held.pop()!.end();
      const again = await until(() => served(port, path), 10_000, 'a freed connection slot');
      for (const conn of [...held, again]) {
        conn.end();
        await conn.closed;
      }
    });
  }
});
