/**
 * Every answer of both ports, node:http's and Fastify's own included, is
 * `{error, message}` with a stable upper-case code: malformed HTTP, oversize headers, a missing
 * Host, an unknown Expect, and requests arriving on open connections during shutdown. (408 is in
 * http-edge-timeouts.test.ts, 413 in http-edge-oversize.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { connect } from 'node:net';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, removeDir, startControlPlane, until, type RunningControlPlane } from './helpers.js';
import { head, openRaw, portOf, rawRequest } from './http-edge-raw.js';

let fixture: FixtureRuntime;
let cp: RunningControlPlane;

beforeAll(async () => {
  fixture = await startFixtureRuntime();
  cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'pool' });
  expect((await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'target', endpointUrl: fixture.url, timeoutMs: 60_000 })).status).toBe(
    201,
  );
});

afterAll(async () => {
  await cp?.stop();
  await fixture?.close();
  if (cp) removeDir(cp.stateDir);
});

const BIG_HEADER = 'x'.repeat(20 * 1024);

const cases: { name: string; bytes: string; status: number; code: string }[] = [
  { name: 'not HTTP at all', bytes: 'GARBAGE\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
  { name: 'unknown HTTP version', bytes: 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
  {
    name: 'a header line without a colon',
    bytes: 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a negative Content-Length',
    bytes: 'POST /v1/functions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'Content-Length and Transfer-Encoding together',
    bytes: 'POST /v1/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a broken chunk size',
    bytes: 'POST /v1/functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'headers over 16 KiB',
    bytes: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${BIG_HEADER}\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'a request line over 16 KiB',
    bytes: `GET /v1/functions/${BIG_HEADER} HTTP/1.1\r\nHost: x\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  { name: 'HTTP/1.1 without Host', bytes: 'GET /healthz HTTP/1.1\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
  { name: 'Expect: 200-ok', bytes: 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n', status: 417, code: 'EXPECTATION_FAILED' },
  {
    name: 'Expect: 200-ok with a body',
    bytes: 'POST /v1/functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 200-ok\r\n\r\n{}',
    status: 417,
    code: 'EXPECTATION_FAILED',
  },
];

describe('error format of the HTTP edge', () => {
  for (const port of ['API', 'management'] as const) {
    for (const c of cases) {
      it(`${port} port: ${c.name} → ${c.status} ${c.code} in JSON`, async () => {
        const r = await rawRequest(portOf(port === 'API' ? cp.apiUrl : cp.managementUrl), c.bytes);
        expect(r.error).toBeUndefined();
        expect(r.responses).toHaveLength(1);
        const answer = r.responses[0]!;
        expect(answer.status).toBe(c.status);
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(answer.headers.connection).toBe('close');
        expect(answer.json).toEqual({ error: c.code, message: expect.any(String) });
      });
    }
  }

  it('Expect: 100-continue within the limit is invited and served (the fast path and a Fastify route)', async () => {
    for (const [path, body, status] of [
      ['/v1/functions/target:invoke', '{"input":{"expect":1}}', 200],
      ['/v1/functions/target:enqueue', '{"input":{"expect":2}}', 202],
    ] as const) {
      const conn = openRaw(portOf(cp.apiUrl));
      await conn.write(head('POST', path, { 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' }));
      expect((await conn.nextResponse())?.status, path).toBe(100);
      await conn.write(body);
      const answer = await conn.nextResponse();
      expect(answer?.status, answer?.body).toBe(status);
      conn.end();
      expect((await conn.closed).error).toBeUndefined();
    }
  });

  it('HTTP/1.0 needs no Host header', async () => {
    const r = await rawRequest(portOf(cp.managementUrl), 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(r.responses[0]?.status).toBe(200);
  });
});

describe('during shutdown', () => {
  it('a request arriving on an open API connection gets 503 SHUTTING_DOWN in JSON; management keeps answering, closing each connection', async () => {
    // A call held at the runtime keeps the control plane draining (it waits for running calls).
    const held = request(`${cp.apiUrl}/v1/functions/target:invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { gate: 'drain' } }),
    });
    await fixture.received(onGate('drain'));
    // Connections in the middle of a request head are not idle, so closing the server keeps them.
    const api = openRaw(portOf(cp.apiUrl));
    await api.write('GET /v1/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const management = openRaw(portOf(cp.managementUrl));
    await management.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    cp.child.kill('SIGTERM');
    // The API stops listening only after the shutdown flag is set.
    await until(
      () =>
        new Promise<boolean | undefined>((resolve) => {
          const probe = connect(portOf(cp.apiUrl), '127.0.0.1');
          probe.once('connect', () => {
            probe.destroy();
            resolve(undefined);
          });
          probe.once('error', () => resolve(true));
        }),
      10_000,
      'the API port to stop listening',
    );

    await api.write('\r\n');
    const refused = await api.nextResponse();
    expect(refused?.status).toBe(503);
    expect(refused?.headers.connection).toBe('close');
    expect(refused?.json).toEqual({ error: 'SHUTTING_DOWN', message: expect.any(String) });
    expect((await api.closed).error).toBeUndefined();

    await management.write('\r\n');
    const probe = await management.nextResponse();
    expect(probe?.status).toBe(503);
    expect(probe?.json, probe?.body).toEqual({ status: 'DOWN' });
    expect(probe?.headers.connection).toBe('close');
    expect((await management.closed).error).toBeUndefined();

    fixture.openGate('drain');
    expect((await held).statusCode).toBe(200);
    expect(await cp.exited).toBe(0);
  });
});
