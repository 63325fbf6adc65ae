/**
 * NATS-mode `:enqueue` is served by the node:http fast path (api/invoke-fast-path.ts). Every case
 * is sent twice to the built control plane: as is (fast path), and with a query string, which the
 * fast path declines, so the Fastify route answers it. Both answers must be the same: status,
 * JSON body (execution ids aside), and the headers a client reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureRuntime, startFixtureRuntime } from '../fixtures/fixture-runtime.js';
import {
  type Answer,
  call,
  type RunningControlPlane,
  removeDir,
  startControlPlane,
  tempStateDir,
  until,
  untilMetric,
} from '../control-plane/helpers.js';
import { type RunningNats, startNats } from './nats-server.js';

let nats: RunningNats;
let runtime: FixtureRuntime;
let cp: RunningControlPlane;
const dir = tempStateDir();

beforeAll(async () => {
  [nats, runtime] = await Promise.all([startNats(), startFixtureRuntime()]);
  cp = await startControlPlane({ NANOFAAS_NATS_URL: nats.url, NANOFAAS_NATS_ACK_WAIT_SLACK_MS: '500' }, dir);
  const reg = await call(cp.apiUrl, 'POST', '/v1/functions', {
    name: 'fp',
    endpointUrl: runtime.url,
    concurrency: 1,
    queueSize: 1,
    timeoutMs: 10_000,
  });
  expect(reg.status).toBe(201);
  const other = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'fp-nats-down', endpointUrl: runtime.url, queueSize: 100 });
  expect(other.status).toBe(201);
});
afterAll(async () => {
  runtime?.openGate('hold-fp');
  await cp?.stop('SIGKILL');
  await runtime?.close();
  await nats?.close();
  removeDir(dir);
});

const READ_HEADERS = ['content-type', 'retry-after', 'x-queue-reject-reason', 'www-authenticate'];

/** The same request through the fast path and through the Fastify route. */
async function both(name: string, body: unknown, headers: Record<string, string> = {}): Promise<[Answer, Answer]> {
  const fast = await call(cp.apiUrl, 'POST', `/v1/functions/${name}:enqueue`, body, headers);
  const routed = await call(cp.apiUrl, 'POST', `/v1/functions/${name}:enqueue?via=fastify`, body, headers);
  return [fast, routed];
}

function expectSameAnswer(fast: Answer, routed: Answer): void {
  expect(fast.status).toBe(routed.status);
  for (const h of READ_HEADERS) expect([h, fast.headers.get(h)]).toEqual([h, routed.headers.get(h)]);
  expect(fast.headers.get('content-length')).toBe(String(Buffer.byteLength(fast.text)));
}

describe('NATS-mode :enqueue on the fast path', () => {
  it('202: the same body shape and headers, the id in x-execution-id, and the execution runs', async () => {
    const [fast, routed] = await both('fp', { input: { n: 1 } });
    expectSameAnswer(fast, routed);
    expect(fast.status).toBe(202);
    for (const a of [fast, routed]) {
      expect(a.body).toEqual({ executionId: expect.any(String), status: 'queued' });
      expect(a.headers.get('x-execution-id')).toBe((a.body as { executionId: string }).executionId);
    }
    expect(fast.text).toBe(`{"executionId":"${(fast.body as { executionId: string }).executionId}","status":"queued"}`);
    const ended = await until(async () => {
      const s = await call(cp.apiUrl, 'GET', `/v1/executions/${(fast.body as { executionId: string }).executionId}`);
      return s.body?.status === 'success' ? s.body : undefined;
    });
    expect(ended.output).toEqual({ ok: true, input: { n: 1 } });
  });

  it('the same Idempotency-Key through either path joins one execution', async () => {
    const [fast, routed] = await both('fp', { input: { n: 2 } }, { 'idempotency-key': 'fast-path-key' });
    expect(fast.status).toBe(202);
    expect(routed.status).toBe(202);
    expect((routed.body as { executionId: string }).executionId).toBe((fast.body as { executionId: string }).executionId);
  });

  it('404, 400 (JSON, header) answer the same; a schema error the same code and path', async () => {
    const cases: [string, unknown, Record<string, string>][] = [
      ['nope', { input: 1 }, {}],
      ['fp', '{"input": ', {}],
      ['fp', '{"input": 1, "__proto__": {"x": 1}}', {}],
      ['fp', { input: 1 }, { 'x-trace-id': 'x'.repeat(300) }],
    ];
    for (const [name, body, headers] of cases) {
      const [fast, routed] = await both(name, body, headers);
      expectSameAnswer(fast, routed);
      expect(fast.status).toBeGreaterThanOrEqual(400);
      expect(fast.body).toEqual(routed.body);
    }
    // The fast path's compiled TypeBox check words a schema error its own way (as for memory mode's
    // :invoke and :enqueue since the fast path exists); code, status and the failing path agree.
    const [fast, routed] = await both('fp', { input: 1, extra: true });
    expectSameAnswer(fast, routed);
    expect(fast.status).toBe(400);
    expect(fast.body).toMatchObject({ error: 'VALIDATION_ERROR', message: 'invalid body: /extra Unexpected property' });
    expect(routed.body).toMatchObject({ error: 'VALIDATION_ERROR' });
  });

  it('429 QUEUE_FULL against the consumer’s pending count: same body and Retry-After headers', async () => {
    // concurrency 1 held by a gated call, one more waiting = queueSize 1 reached.
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/fp:enqueue', { input: { gate: 'hold-fp' } })).status).toBe(202);
    await runtime.received((r) => JSON.stringify(r.body).includes('hold-fp'));
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/fp:enqueue', { input: { n: 3 } })).status).toBe(202);
    await untilMetric(cp.managementUrl, 'function_queue_depth', 'fp', 1);
    const [fast, routed] = await both('fp', { input: { n: 4 } });
    expectSameAnswer(fast, routed);
    expect(fast.status).toBe(429);
    expect(fast.body).toEqual(routed.body);
    expect(fast.body).toMatchObject({ error: 'QUEUE_FULL', details: { reason: 'depth' } });
    runtime.openGate('hold-fp');
  });

  it('503 BACKEND_UNAVAILABLE when NATS cannot store the invocation', async () => {
    await nats.stop('SIGKILL');
    try {
      // Both at once: each waits for its publish acknowledgement until the ack timeout (5 s).
      const [fast, routed] = await Promise.all([
        call(cp.apiUrl, 'POST', '/v1/functions/fp-nats-down:enqueue', { input: { n: 5 } }),
        call(cp.apiUrl, 'POST', '/v1/functions/fp-nats-down:enqueue?via=fastify', { input: { n: 5 } }),
      ]);
      expectSameAnswer(fast, routed);
      expect(fast.status).toBe(503);
      expect(fast.body).toMatchObject({ error: 'BACKEND_UNAVAILABLE' });
      expect(routed.body).toMatchObject({ error: 'BACKEND_UNAVAILABLE' });
    } finally {
      await nats.restart();
    }
  });
});
