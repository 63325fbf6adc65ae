/**
 * API contract (docs/design.md §2): every route, its documented statuses and error codes, the
 * OpenAPI document. One suite, run per mode: api-contract.test.ts (memory) and
 * api-contract.nats.test.ts (NATS mode, §3.12). Where the modes differ by design the expectation
 * branches on `mode.name`, citing §3.12; nothing is skipped in either mode.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import {
  type Answer,
  call,
  finalExecution,
  functionMetric,
  removeDir,
  startControlPlane,
  until,
  type RunningControlPlane,
} from './helpers.js';
import type { SuiteMode } from './suite-mode.js';

const expectError = (answer: { status: number; body: any }, status: number, code: string) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toMatchObject({ error: code, message: expect.any(String) });
};

export function apiContractSuite(mode: SuiteMode): void {
  let fixture: FixtureRuntime;
  let cp: RunningControlPlane;
  let api: string;
  const nats = mode.name === 'nats';

  /** A control plane of its own (with `env` on top of the mode's) for one describe block. */
  const ownControlPlane = (env: Record<string, string>): (() => RunningControlPlane) => {
    let own: RunningControlPlane | undefined;
    beforeAll(async () => {
      own = await startControlPlane({ ...env, ...mode.env() });
    });
    afterAll(async () => {
      await own?.stop();
      if (own) removeDir(own.stateDir);
    });
    return () => own!;
  };

  beforeAll(async () => {
    fixture = await startFixtureRuntime();
    cp = await startControlPlane({ NANOFAAS_BODY_LIMIT_BYTES: '4096', ...mode.env() });
    api = cp.apiUrl;
  });

  afterAll(async () => {
    await cp?.stop();
    await fixture?.close();
    if (cp) removeDir(cp.stateDir);
  });

  describe('functions', () => {
    it('lists nothing at first', async () => {
      const answer = await call(api, 'GET', '/v1/functions');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual([]);
    });

    it('registers a function and answers the resolved spec (201)', async () => {
      const answer = await call(api, 'POST', '/v1/functions', { name: 'echo', endpointUrl: fixture.url });
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({
        name: 'echo',
        endpointUrl: fixture.url,
        timeoutMs: 30000,
        concurrency: 4,
        queueSize: 100,
        maxRetries: 3,
        runtimeMode: 'HTTP',
        executionMode: 'POOL',
        replicas: 1,
      });
      const list = await call(api, 'GET', '/v1/functions');
      expect(list.body.map((f: { name: string }) => f.name)).toEqual(['echo']);
    });

    it('refuses a second registration of the same name (409 FUNCTION_EXISTS)', async () => {
      expectError(await call(api, 'POST', '/v1/functions', { name: 'echo', endpointUrl: fixture.url }), 409, 'FUNCTION_EXISTS');
    });

    it.each([
      ['an invalid name', { name: 'Bad_Name', endpointUrl: 'http://127.0.0.1:1' }],
      ['a name longer than a DNS label allows', { name: 'a'.repeat(64), endpointUrl: 'http://127.0.0.1:1' }],
      ['an unknown field', { name: 'x1', endpointUrl: 'http://127.0.0.1:1', color: 'blue' }],
      ['an out-of-range concurrency', { name: 'x2', endpointUrl: 'http://127.0.0.1:1', concurrency: 0 }],
      ['a negative timeout', { name: 'x3', endpointUrl: 'http://127.0.0.1:1', timeoutMs: -5 }],
      ['a non-http endpoint', { name: 'x4', endpointUrl: 'file:///etc/passwd' }],
      ['POOL without endpoint', { name: 'x5', executionMode: 'POOL' }],
      [
        'minReplicas above maxReplicas',
        { name: 'x6', endpointUrl: 'http://127.0.0.1:1', scalingConfig: { minReplicas: 3, maxReplicas: 1 } },
      ],
      ['a missing name', { endpointUrl: 'http://127.0.0.1:1' }],
    ])('rejects %s (400 VALIDATION_ERROR)', async (_what, spec) => {
      expectError(await call(api, 'POST', '/v1/functions', spec), 400, 'VALIDATION_ERROR');
    });

    it('shows one function with its live status, 404 for an unknown one, 400 for an invalid name', async () => {
      const answer = await call(api, 'GET', '/v1/functions/echo');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ name: 'echo', status: { state: 'READY', replicas: 1, readyReplicas: 1 } });
      expectError(await call(api, 'GET', '/v1/functions/nope'), 404, 'FUNCTION_NOT_FOUND');
      expectError(await call(api, 'GET', '/v1/functions/NOPE'), 400, 'VALIDATION_ERROR');
    });

    it('sets replicas (200), validates the count (400) and the name (404)', async () => {
      const answer = await call(api, 'PUT', '/v1/functions/echo/replicas', { replicas: 2 });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ name: 'echo', replicas: 2 });
      expect((await call(api, 'GET', '/v1/functions/echo')).body.replicas).toBe(2);
      expectError(await call(api, 'PUT', '/v1/functions/echo/replicas', { replicas: -1 }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'PUT', '/v1/functions/echo/replicas', { replicas: 'two' }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'PUT', '/v1/functions/nope/replicas', { replicas: 1 }), 404, 'FUNCTION_NOT_FOUND');
    });

    it('deletes a function (204), then 404', async () => {
      expect((await call(api, 'POST', '/v1/functions', { name: 'doomed', endpointUrl: fixture.url })).status).toBe(201);
      const answer = await call(api, 'DELETE', '/v1/functions/doomed');
      expect(answer.status).toBe(204);
      expect(answer.text).toBe('');
      expectError(await call(api, 'DELETE', '/v1/functions/doomed'), 404, 'FUNCTION_NOT_FOUND');
      expectError(await call(api, 'POST', '/v1/functions/doomed:invoke', { input: 1 }), 404, 'FUNCTION_NOT_FOUND');
      expectError(await call(api, 'POST', '/v1/functions/doomed:enqueue', { input: 1 }), 404, 'FUNCTION_NOT_FOUND');
    });
  });

  describe('invocations', () => {
    it('invokes synchronously: 200 {executionId, status, output} and X-Execution-Id', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: { hello: 'wörld ✓' }, metadata: { a: 'b' } });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        executionId: expect.any(String),
        status: 'success',
        output: { ok: true, input: { hello: 'wörld ✓' } },
      });
      expect(answer.headers.get('x-execution-id')).toBe(answer.body.executionId);
      const forwarded = fixture.requests.find((r) => r.executionId === answer.body.executionId);
      expect(forwarded?.body).toEqual({ input: { hello: 'wörld ✓' }, metadata: { a: 'b' } });
    });

    it('passes the function 4xx through with status "error"', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: { status: 422 } });
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ executionId: expect.any(String), status: 'error', error: 'INVALID_INPUT' });
    });

    it('maps a function failure to 502 FUNCTION_ERROR', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: { status: 500 } });
      expect(answer.status).toBe(502);
      expect(answer.body).toMatchObject({ status: 'error', error: 'FUNCTION_ERROR' });
    });

    it('maps a timeout to 504 TIMEOUT with status "timeout"', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: { sleepMs: 2000 } }, { 'x-timeout-ms': '150' });
      expect(answer.status).toBe(504);
      expect(answer.body).toMatchObject({ status: 'timeout', error: 'TIMEOUT' });
    });

    it('rejects a bad X-Timeout-Ms, a missing input and unknown body fields (400)', async () => {
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', { input: 1 }, { 'x-timeout-ms': 'soon' }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', { input: 1 }, { 'x-timeout-ms': '0' }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', { metadata: {} }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', { input: 1, extra: true }), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', { input: 1, metadata: { n: 1 } }), 400, 'VALIDATION_ERROR');
    });

    it('enqueues: 202 {executionId, status: "queued"}, then the execution reaches success', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { job: 1 } });
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual({ executionId: expect.any(String), status: 'queued' });
      expect(answer.headers.get('x-execution-id')).toBe(answer.body.executionId);
      const done = await finalExecution(api, answer.body.executionId);
      expect(done).toMatchObject({
        executionId: answer.body.executionId,
        functionName: 'echo',
        status: 'success',
        attempts: 1,
        output: { ok: true, input: { job: 1 } },
        error: null,
      });
      expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
      expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    });

    it('enqueue forwards the body as received, X-Trace-Id and the execution id to the runtime', async () => {
      const answer = await call(
        api,
        'POST',
        '/v1/functions/echo:enqueue',
        { input: { job: 'fwd', text: 'wörld ✓' }, metadata: { tenant: 't1' } },
        { 'x-trace-id': 'trace-contract-1' },
      );
      expect(answer.status).toBe(202);
      const id = answer.body.executionId as string;
      const [forwarded] = await fixture.received((r) => r.executionId === id);
      expect(forwarded).toMatchObject({
        executionId: id,
        attempt: 1,
        traceId: 'trace-contract-1',
        body: { input: { job: 'fwd', text: 'wörld ✓' }, metadata: { tenant: 't1' } },
      });
      expect((await finalExecution(api, id)).status).toBe('success');
    });

    it('an async execution is retried after a function failure (§3.6), and ends error after maxRetries + 1 attempts', async () => {
      const reg = await call(api, 'POST', '/v1/functions', { name: 'flaky', endpointUrl: fixture.url, maxRetries: 1 });
      expect(reg.status).toBe(201);
      const recovers = await call(api, 'POST', '/v1/functions/flaky:enqueue', { input: { failAttempts: 1, n: 1 } });
      const fails = await call(api, 'POST', '/v1/functions/flaky:enqueue', { input: { status: 500, n: 2 } });
      expect([recovers.status, fails.status]).toEqual([202, 202]);
      expect(await finalExecution(api, recovers.body.executionId)).toMatchObject({ status: 'success', attempts: 2, error: null });
      expect(await finalExecution(api, fails.body.executionId)).toMatchObject({
        status: 'error',
        attempts: 2,
        error: { error: 'FUNCTION_ERROR' },
      });
      const attempts = (id: string) => fixture.requests.filter((r) => r.executionId === id).map((r) => r.attempt);
      expect(attempts(recovers.body.executionId)).toEqual([1, 2]);
      expect(attempts(fails.body.executionId).sort()).toEqual([1, 2]);
      expect((await call(api, 'DELETE', '/v1/functions/flaky')).status).toBe(204);
    });

    it('an async attempt gets the function timeoutMs (§3.5): a timeout is retried, then the execution ends timeout', async () => {
      const reg = await call(api, 'POST', '/v1/functions', { name: 'sluggish', endpointUrl: fixture.url, timeoutMs: 200, maxRetries: 1 });
      expect(reg.status).toBe(201);
      const queued = await call(api, 'POST', '/v1/functions/sluggish:enqueue', { input: { sleepMs: 3000 } });
      expect(queued.status).toBe(202);
      const id = queued.body.executionId as string;
      expect(await finalExecution(api, id)).toMatchObject({ status: 'timeout', attempts: 2, error: { error: 'TIMEOUT' } });
      expect(fixture.requests.filter((r) => r.executionId === id).map((r) => r.attempt)).toEqual([1, 2]);
      expect((await call(api, 'DELETE', '/v1/functions/sluggish')).status).toBe(204);
    });

    it('deleting a function ends its queued async executions error FUNCTION_DELETED (§3.9); the running one ends with its answer', async () => {
      const reg = await call(api, 'POST', '/v1/functions', { name: 'condemned', endpointUrl: fixture.url, concurrency: 1 });
      expect(reg.status).toBe(201);
      const running = await call(api, 'POST', '/v1/functions/condemned:enqueue', { input: { gate: 'condemned' } });
      expect(running.status).toBe(202);
      await fixture.received(onGate('condemned'));
      const queued = await Promise.all([1, 2].map((n) => call(api, 'POST', '/v1/functions/condemned:enqueue', { input: { n } })));
      expect(queued.map((q) => q.status)).toEqual([202, 202]);
      expect((await call(api, 'DELETE', '/v1/functions/condemned')).status).toBe(204);
      for (const q of queued) {
        expect(await finalExecution(api, q.body.executionId)).toMatchObject({
          status: 'error',
          attempts: 0,
          error: { error: 'FUNCTION_DELETED' },
        });
      }
      fixture.openGate('condemned');
      expect(await finalExecution(api, running.body.executionId)).toMatchObject({
        status: 'success',
        attempts: 1,
        output: { ok: true, input: { gate: 'condemned' } },
      });
      const called = new Set(fixture.requests.map((r) => r.executionId));
      for (const q of queued) expect(called.has(q.body.executionId)).toBe(false);
    });

    it('404 for invoking or enqueuing an unknown function', async () => {
      expectError(await call(api, 'POST', '/v1/functions/ghost:invoke', { input: 1 }), 404, 'FUNCTION_NOT_FOUND');
      expectError(await call(api, 'POST', '/v1/functions/ghost:enqueue', { input: 1 }), 404, 'FUNCTION_NOT_FOUND');
    });

    it('429 with Retry-After and X-Queue-Reject-Reason when the queue is full', async () => {
      expect(
        (await call(api, 'POST', '/v1/functions', { name: 'narrow', endpointUrl: fixture.url, concurrency: 1, queueSize: 0 })).status,
      ).toBe(201);
      const busy = call(api, 'POST', '/v1/functions/narrow:invoke', { input: { gate: 'narrow' } });
      await fixture.received(onGate('narrow'));
      const sync = await call(api, 'POST', '/v1/functions/narrow:invoke', { input: 1 });
      expectError(sync, 429, 'QUEUE_FULL');
      expect(sync.headers.get('retry-after')).toBe('2');
      expect(sync.headers.get('x-queue-reject-reason')).toBe('depth');
      let held: Answer | undefined;
      if (nats) {
        // docs/design.md §3.12: async concurrency is the consumer's max_ack_pending, apart from each
        // replica's in-process sync slots, so the sync call holds no async slot: an async call does.
        held = await call(api, 'POST', '/v1/functions/narrow:enqueue', { input: { gate: 'narrow-async' } });
        expect(held.status, held.text).toBe(202);
        await fixture.received(onGate('narrow-async'));
      }
      const async = await call(api, 'POST', '/v1/functions/narrow:enqueue', { input: 1 });
      expectError(async, 429, 'QUEUE_FULL');
      expect(async.headers.get('retry-after')).toBe('2');
      expect(async.headers.get('x-queue-reject-reason')).toBe('depth');
      fixture.openGate('narrow');
      fixture.openGate('narrow-async');
      expect((await busy).status).toBe(200);
      if (held) expect((await finalExecution(api, held.body.executionId)).status).toBe('success');
    });

    it('queueSize 0 still admits a call that need not wait (§3.2: the bound applies to waiting calls)', async () => {
      const reg = await call(api, 'POST', '/v1/functions', { name: 'no-wait', endpointUrl: fixture.url, concurrency: 1, queueSize: 0 });
      expect(reg.status).toBe(201);
      const queued = await call(api, 'POST', '/v1/functions/no-wait:enqueue', { input: { n: 1 } });
      expect(queued.status, queued.text).toBe(202);
      expect(await finalExecution(api, queued.body.executionId)).toMatchObject({
        status: 'success',
        output: { ok: true, input: { n: 1 } },
      });
      const sync = await call(api, 'POST', '/v1/functions/no-wait:invoke', { input: { n: 2 } });
      expect(sync.status, sync.text).toBe(200);
      expect((await call(api, 'DELETE', '/v1/functions/no-wait')).status).toBe(204);
    });
  });

  describe('sync-invoke fast path and the Fastify route answer alike', () => {
    // A query string makes the node:http fast path step aside, so the Fastify route answers.
    it.each([
      ['a valid call', '{"input":{"a":1}}', {}],
      ['malformed JSON', '{"input":', {}],
      ['an empty body', '', {}],
      ['a missing input', '{"metadata":{}}', {}],
      ['an unknown field', '{"input":1,"x":2}', {}],
      ['bad metadata', '{"input":1,"metadata":{"a":1}}', {}],
      ['a __proto__ key', '{"input":{"__proto__":{"x":1}}}', {}],
      ['a bad X-Timeout-Ms', '{"input":1}', { 'x-timeout-ms': 'x' }],
      ['an unknown function', '{"input":1}', {}, 'ghost'],
      ['a function 4xx', '{"input":{"status":409}}', {}],
    ] as [string, string, Record<string, string>, string?][])('%s', async (_what, body, headers, name = 'echo') => {
      const fast = await call(api, 'POST', `/v1/functions/${name}:invoke`, body, { 'content-type': 'application/json', ...headers });
      const routed = await call(api, 'POST', `/v1/functions/${name}:invoke?via=fastify`, body, {
        'content-type': 'application/json',
        ...headers,
      });
      expect(fast.status).toBe(routed.status);
      expect(fast.headers.get('content-type')).toBe(routed.headers.get('content-type'));
      const shape = (b: any) => ({ error: b?.error, status: b?.status, hasId: typeof b?.executionId === 'string', output: b?.output });
      expect(shape(fast.body)).toEqual(shape(routed.body));
    });
  });

  describe('enqueue fast path and the Fastify route answer alike', () => {
    // The same query-string trick: `?via=fastify` sends the enqueue through the Fastify route.
    it.each([
      ['a valid call', '{"input":{"a":1}}', {}],
      ['malformed JSON', '{"input":', {}],
      ['an empty body', '', {}],
      ['a missing input', '{"metadata":{}}', {}],
      ['an unknown field', '{"input":1,"x":2}', {}],
      ['a __proto__ key', '{"input":{"__proto__":{"x":1}}}', {}],
      ['an over-long X-Trace-Id', '{"input":1}', { 'x-trace-id': 'x'.repeat(300) }],
      ['an unknown function', '{"input":1}', {}, 'ghost'],
    ] as [string, string, Record<string, string>, string?][])('%s', async (_what, body, headers, name = 'echo') => {
      const fast = await call(api, 'POST', `/v1/functions/${name}:enqueue`, body, { 'content-type': 'application/json', ...headers });
      const routed = await call(api, 'POST', `/v1/functions/${name}:enqueue?via=fastify`, body, {
        'content-type': 'application/json',
        ...headers,
      });
      expect(fast.status).toBe(routed.status);
      expect(fast.headers.get('content-type')).toBe(routed.headers.get('content-type'));
      expect(typeof fast.headers.get('x-execution-id')).toBe(typeof routed.headers.get('x-execution-id'));
      const shape = (b: any) => ({
        error: b?.error,
        status: b?.status,
        hasId: typeof b?.executionId === 'string',
        keys: Object.keys(b ?? {}).sort(),
      });
      expect(shape(fast.body)).toEqual(shape(routed.body));
      if (fast.status === 202) {
        expect(fast.headers.get('x-execution-id')).toBe(fast.body.executionId);
        const ended = await finalExecution(api, fast.body.executionId as string);
        expect(ended.status).toBe('success');
      }
    });
  });

  describe('executions', () => {
    it('404 EXECUTION_NOT_FOUND for an unknown id, 400 for a malformed one', async () => {
      expectError(await call(api, 'GET', '/v1/executions/00000000-0000-0000-0000-000000000000'), 404, 'EXECUTION_NOT_FOUND');
      expectError(await call(api, 'GET', '/v1/executions/bad$id'), 400, 'VALIDATION_ERROR');
    });

    it('a sync execution is readable by id after its answer', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: { read: 'back' } });
      expect(answer.status).toBe(200);
      const id = answer.body.executionId as string;
      expect((await call(api, 'GET', `/v1/executions/${id}`)).body).toMatchObject({
        executionId: id,
        functionName: 'echo',
        status: 'success',
        attempts: 1,
        output: { ok: true, input: { read: 'back' } },
        error: null,
      });
    });

    it('waitMs long-polls until the execution ends; an out-of-range or non-numeric waitMs is 400', async () => {
      const queued = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'long-poll' } });
      const id = queued.body.executionId as string;
      await fixture.received(onGate('long-poll'));
      // Held at the runtime: a short wait answers the current state.
      expect((await call(api, 'GET', `/v1/executions/${id}?waitMs=50`)).body).toMatchObject({ executionId: id, status: 'running' });
      const waiting = call(api, 'GET', `/v1/executions/${id}?waitMs=20000`);
      fixture.openGate('long-poll');
      const ended = await waiting;
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ executionId: id, status: 'success', output: { ok: true, input: { gate: 'long-poll' } } });
      expectError(await call(api, 'GET', `/v1/executions/${id}?waitMs=30001`), 400, 'VALIDATION_ERROR');
      expectError(await call(api, 'GET', `/v1/executions/${id}?waitMs=soon`), 400, 'VALIDATION_ERROR');
    });

    it('a repeated Idempotency-Key answers the first execution (202, same body), before and after it ends', async () => {
      const key = { 'idempotency-key': `contract-${mode.name}` };
      const first = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'idem' } }, key);
      expect(first.status).toBe(202);
      const id = first.body.executionId as string;
      const again = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'idem' } }, key);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('x-execution-id')).toBe(id);
      fixture.openGate('idem');
      expect(await finalExecution(api, id)).toMatchObject({ status: 'success', attempts: 1 });
      const after = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'idem' } }, key);
      expect(after.status).toBe(202);
      expect(after.body).toEqual(first.body);
      expect(fixture.requests.filter((r) => r.executionId === id)).toHaveLength(1);
    });

    it('deleting a function forgets its Idempotency-Keys (§3.7): registered again, the key starts a new execution', async () => {
      const key = { 'idempotency-key': `reborn-${mode.name}` };
      const register = async () =>
        expect((await call(api, 'POST', '/v1/functions', { name: 'reborn', endpointUrl: fixture.url })).status).toBe(201);
      await register();
      const first = await call(api, 'POST', '/v1/functions/reborn:enqueue', { input: { life: 1 } }, key);
      expect(first.status, first.text).toBe(202);
      expect(await finalExecution(api, first.body.executionId)).toMatchObject({
        status: 'success',
        output: { ok: true, input: { life: 1 } },
      });
      expect((await call(api, 'DELETE', '/v1/functions/reborn')).status).toBe(204);
      await register();
      const [second, keyless] = await Promise.all([
        call(api, 'POST', '/v1/functions/reborn:enqueue', { input: { life: 2 } }, key),
        call(api, 'POST', '/v1/functions/reborn:enqueue', { input: { life: 2, keyless: true } }),
      ]);
      expect(second.status, second.text).toBe(202);
      expect(keyless.status, keyless.text).toBe(202);
      // Accepted right after the re-registration, it belongs to the new function (not drained by the removal).
      expect(await finalExecution(api, keyless.body.executionId)).toMatchObject({ status: 'success', attempts: 1 });
      expect(second.body.executionId).not.toBe(first.body.executionId);
      expect(await finalExecution(api, second.body.executionId)).toMatchObject({
        status: 'success',
        output: { ok: true, input: { life: 2 } },
      });
      expect((await call(api, 'DELETE', '/v1/functions/reborn')).status).toBe(204);
    });

    it('internal completion: 204, idempotent repeat 204, conflicting repeat 409, unknown 404', async () => {
      // Memory mode: an async execution. NATS mode (docs/design.md §3.12): a callback for an async
      // execution is not accepted (checked in the next test), so the same contract is checked on a
      // sync execution, which stays in this process in that mode.
      const held = nats
        ? call(api, 'POST', '/v1/functions/echo:invoke', { input: { gate: 'late-answer' } })
        : call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'late-answer' } });
      // Dispatched and held at the runtime: the callback arrives while the attempt is still running.
      const [received] = await fixture.received(onGate('late-answer'));
      const id = received!.executionId!;
      if (!nats) expect((await held).body.executionId).toBe(id);
      const answered = async () => (await functionMetric(cp.managementUrl, `${METRICS.latency}_count`, 'echo')) ?? 0;
      const answersBefore = await answered();
      const completion = { attempt: 1, status: 'success', output: { fromCallback: true } };
      const first = await call(api, 'POST', `/v1/internal/executions/${id}:complete`, completion);
      expect(first.status).toBe(204);
      expect((await call(api, 'POST', `/v1/internal/executions/${id}:complete`, completion)).status).toBe(204);
      expectError(
        await call(api, 'POST', `/v1/internal/executions/${id}:complete`, {
          attempt: 1,
          status: 'error',
          error: { error: 'X', message: 'y' },
        }),
        409,
        'ALREADY_COMPLETED',
      );
      const execution = await call(api, 'GET', `/v1/executions/${id}`);
      expect(execution.body).toMatchObject({ status: 'success', output: { fromCallback: true } });
      // The runtime's own answer arrives later and must not change the recorded outcome.
      fixture.openGate('late-answer');
      await until(async () => (await answered()) > answersBefore || undefined, 10_000, 'the control plane to take the late answer');
      expect((await call(api, 'GET', `/v1/executions/${id}`)).body.output).toEqual({ fromCallback: true });
      // The sync caller got the outcome that ended the execution: the callback's.
      if (nats) expect((await held).body).toEqual({ executionId: id, status: 'success', output: { fromCallback: true } });
      expectError(
        await call(api, 'POST', '/v1/internal/executions/00000000-0000-0000-0000-000000000000:complete', completion),
        404,
        'EXECUTION_NOT_FOUND',
      );
      expectError(await call(api, 'POST', `/v1/internal/executions/${id}:complete`, { status: 'maybe' }), 400, 'VALIDATION_ERROR');
    });

    it('internal completion of an async execution: accepted in memory mode, 404 in NATS mode (§3.12)', async () => {
      const queued = await call(api, 'POST', '/v1/functions/echo:enqueue', { input: { gate: 'async-callback' } });
      expect(queued.status).toBe(202);
      const id = queued.body.executionId as string;
      await fixture.received(onGate('async-callback'));
      const completion = await call(api, 'POST', `/v1/internal/executions/${id}:complete`, {
        attempt: 1,
        status: 'success',
        output: { fromCallback: true },
      });
      if (nats) {
        // docs/design.md §3.12: the callback route knows only this replica's in-memory (sync)
        // executions; an async one is not accepted, and the runner records the runtime's HTTP answer.
        expectError(completion, 404, 'EXECUTION_NOT_FOUND');
      } else {
        expect(completion.status).toBe(204);
      }
      fixture.openGate('async-callback');
      const done = await finalExecution(api, id);
      expect(done).toMatchObject({
        executionId: id,
        status: 'success',
        attempts: 1,
        output: nats ? { ok: true, input: { gate: 'async-callback' } } : { fromCallback: true },
      });
    });
  });

  describe('admission and counting where the modes differ by design (§3.12)', () => {
    it('a repeated Idempotency-Key: counted once in function_enqueue_total in memory mode, twice in NATS mode', async () => {
      const reg = await call(api, 'POST', '/v1/functions', { name: 'counted', endpointUrl: fixture.url, concurrency: 1 });
      expect(reg.status).toBe(201);
      // The only slot is held, so the keyed invocation stays queued: in NATS mode its key is not in
      // KV yet (the runner writes it before the first attempt), and the repeat meets it in the
      // server's duplicate window.
      const hold = await call(api, 'POST', '/v1/functions/counted:enqueue', { input: { gate: 'counted' } });
      await fixture.received(onGate('counted'));
      const enqueued = async () => (await functionMetric(cp.managementUrl, METRICS.enqueue, 'counted')) ?? 0;
      const before = await enqueued();
      const key = { 'idempotency-key': `counted-${mode.name}` };
      const first = await call(api, 'POST', '/v1/functions/counted:enqueue', { input: { n: 1 } }, key);
      const repeat = await call(api, 'POST', '/v1/functions/counted:enqueue', { input: { n: 1 } }, key);
      expect([first.status, repeat.status]).toEqual([202, 202]);
      expect(repeat.body.executionId).toBe(first.body.executionId);
      // docs/design.md §3.12: a repeat caught by the server's duplicate window is counted in
      // function_enqueue_total; memory mode counts no repeat (§3.7).
      expect((await enqueued()) - before).toBe(nats ? 2 : 1);
      fixture.openGate('counted');
      for (const id of [hold.body.executionId, first.body.executionId]) expect((await finalExecution(api, id)).status).toBe('success');
      expect(fixture.requests.filter((r) => r.executionId === first.body.executionId)).toHaveLength(1);
    });

    describe('NANOFAAS_MAX_LIVE_EXECUTIONS', () => {
      const capped = ownControlPlane({ NANOFAAS_MAX_LIVE_EXECUTIONS: '1' });

      it('refuses a second live execution (429 LIMIT_EXCEEDED) in memory mode; not applied in NATS mode', async () => {
        const reg = await call(capped().apiUrl, 'POST', '/v1/functions', { name: 'live-cap', endpointUrl: fixture.url });
        expect(reg.status).toBe(201);
        const held = await call(capped().apiUrl, 'POST', '/v1/functions/live-cap:enqueue', { input: { gate: 'live-cap' } });
        expect(held.status).toBe(202);
        await fixture.received(onGate('live-cap'));
        const second = await call(capped().apiUrl, 'POST', '/v1/functions/live-cap:enqueue', { input: { n: 2 } });
        if (nats) {
          // docs/design.md §3.12: NANOFAAS_MAX_LIVE_EXECUTIONS is not applied in NATS mode (the
          // queued work is in the stream, bounded per function by queueSize).
          expect(second.status, second.text).toBe(202);
        } else {
          expectError(second, 429, 'LIMIT_EXCEEDED');
          expect(second.headers.get('retry-after')).toBe('2');
        }
        fixture.openGate('live-cap');
        expect((await finalExecution(capped().apiUrl, held.body.executionId)).status).toBe('success');
        if (nats) expect((await finalExecution(capped().apiUrl, second.body.executionId)).status).toBe('success');
        expect((await call(capped().apiUrl, 'DELETE', '/v1/functions/live-cap')).status).toBe(204);
      });
    });
  });

  describe('framework errors all get the JSON error body', () => {
    it('unknown route → 404 NOT_FOUND', async () => {
      expectError(await call(api, 'GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
      expectError(await call(api, 'GET', '/'), 404, 'NOT_FOUND');
      expectError(await call(api, 'POST', '/v1/functions/echo:explode', { input: 1 }), 404, 'NOT_FOUND');
    });

    it('wrong method on a known path → 405 METHOD_NOT_ALLOWED with Allow', async () => {
      const answer = await call(api, 'PATCH', '/v1/functions/echo');
      expectError(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.get('allow')).toContain('GET');
      expectError(await call(api, 'DELETE', '/v1/functions'), 405, 'METHOD_NOT_ALLOWED');
    });

    it('malformed JSON → 400 INVALID_JSON; empty JSON body → 400 INVALID_JSON', async () => {
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', '{"input": '), 400, 'INVALID_JSON');
      expectError(await call(api, 'POST', '/v1/functions', '', { 'content-type': 'application/json' }), 400, 'INVALID_JSON');
    });

    it('prototype-pollution keys → 400 INVALID_JSON', async () => {
      expectError(await call(api, 'POST', '/v1/functions/echo:invoke', '{"input":{"__proto__":{"polluted":1}}}'), 400, 'INVALID_JSON');
      expectError(
        await call(api, 'POST', '/v1/functions/echo:invoke', '{"input":{"constructor":{"prototype":{"polluted":1}}}}'),
        400,
        'INVALID_JSON',
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('wrong content type → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      expectError(
        await call(api, 'POST', '/v1/functions/echo:invoke', 'input=1', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectError(await call(api, 'POST', '/v1/functions', 'name: x', { 'content-type': 'text/yaml' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('oversize body → 413 PAYLOAD_TOO_LARGE', async () => {
      const answer = await call(api, 'POST', '/v1/functions/echo:invoke', { input: 'x'.repeat(10_000) });
      expectError(answer, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('OpenAPI document', () => {
    it('is generated from the route schemas and lists every route', async () => {
      const answer = await call(api, 'GET', '/v1/openapi.json');
      expect(answer.status).toBe(200);
      expect(answer.body.openapi).toMatch(/^3\./);
      const paths = answer.body.paths as Record<string, Record<string, unknown>>;
      const routes = Object.entries(paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => m !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(routes).toEqual(
        expect.arrayContaining([
          'GET /v1/functions',
          'POST /v1/functions',
          'GET /v1/functions/{name}',
          'DELETE /v1/functions/{name}',
          'PUT /v1/functions/{name}/replicas',
          'POST /v1/functions/{name}:invoke',
          'POST /v1/functions/{name}:enqueue',
          'GET /v1/executions/{id}',
          'POST /v1/internal/executions/{id}:complete',
          'GET /v1/openapi.json',
        ]),
      );
      const invoke = paths['/v1/functions/{name}:invoke']!.post as { responses: Record<string, unknown>; requestBody: unknown };
      expect(Object.keys(invoke.responses)).toEqual(expect.arrayContaining(['200', '404', '429', '502', '504']));
      expect(invoke.requestBody).toBeDefined();
    });
  });

  describe('bearer token', () => {
    const secured = ownControlPlane({ NANOFAAS_API_TOKEN: 's3cret-token' });

    it('requires Authorization: Bearer on every /v1 route when NANOFAAS_API_TOKEN is set', async () => {
      for (const [method, path] of [
        ['GET', '/v1/functions'],
        ['GET', '/v1/functions/x'],
        ['POST', '/v1/functions/x:invoke'],
        ['GET', '/v1/executions/abc'],
        ['GET', '/v1/openapi.json'],
      ] as const) {
        const answer = await call(secured().apiUrl, method, path, method === 'POST' ? { input: 1 } : undefined);
        expectError(answer, 401, 'UNAUTHORIZED');
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      }
      expectError(await call(secured().apiUrl, 'GET', '/v1/functions', undefined, { authorization: 'Bearer wrong' }), 401, 'UNAUTHORIZED');
      const ok = await call(secured().apiUrl, 'GET', '/v1/functions', undefined, { authorization: 'Bearer s3cret-token' });
      expect(ok.status).toBe(200);
      // The management port stays open for probes and scraping.
      expect((await fetch(`${secured().managementUrl}/healthz`)).status).toBe(200);
    });

    it('a percent-encoded path that routes to a /v1 route still needs the token', async () => {
      for (const path of ['/%761/functions', '/%76%31/openapi.json', '/v%31/executions/abc']) {
        expectError(await call(secured().apiUrl, 'GET', path), 401, 'UNAUTHORIZED');
      }
    });

    it('a non-ASCII Authorization header of the token length is 401, on the fast path and the router, and the server lives on', async () => {
      const port = Number(new URL(secured().apiUrl).port);
      // Same character count as "Bearer s3cret-token", but 'é' is two bytes once UTF-8 encoded.
      const header = 'Bearer s3cret-toke\u00e9';
      for (const path of ['/v1/functions/x:invoke', '/v1/functions']) {
        const statusLine = await new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          let data = '';
          socket.setTimeout(3000, () => socket.destroy());
          socket.on('data', (chunk) => (data += chunk.toString('latin1')));
          socket.on('close', () => resolve(data.split('\r\n', 1)[0] ?? ''));
          socket.on('error', () => undefined);
          socket.end(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 11\r\nAuthorization: ${header}\r\n\r\n{"input":1}`,
            'latin1',
          );
        });
        expect(statusLine).toBe('HTTP/1.1 401 Unauthorized');
      }
      expect((await call(secured().apiUrl, 'GET', '/v1/functions', undefined, { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    });
  });

  describe('backend down', () => {
    const k8s = ownControlPlane({
      NANOFAAS_WORKLOAD_BACKEND: 'kubernetes',
      KUBECONFIG: '/nonexistent/kubeconfig',
      KUBERNETES_SERVICE_HOST: '',
    });

    it('answers 503 BACKEND_UNAVAILABLE when the default backend cannot serve the function, pool functions still work', async () => {
      expectError(await call(k8s().apiUrl, 'POST', '/v1/functions', { name: 'needs-cluster', image: 'x/y:1' }), 503, 'BACKEND_UNAVAILABLE');
      const names = async (base: string) =>
        ((await call(base, 'GET', '/v1/functions')).body as { name: string }[]).map((f) => f.name).sort();
      // docs/design.md §3.12: in NATS mode the registry is one KV bucket every replica watches, so
      // this control plane lists the functions the suite's main one registered (echo, narrow).
      expect(await names(k8s().apiUrl)).toEqual(nats ? await names(api) : []);
      if (nats) expect(await names(api)).toEqual(expect.arrayContaining(['echo', 'narrow']));
      // The refused registration reached no registry: not this one's, not the shared one.
      expectError(await call(api, 'GET', '/v1/functions/needs-cluster'), 404, 'FUNCTION_NOT_FOUND');
      expect((await call(k8s().apiUrl, 'POST', '/v1/functions', { name: 'external', endpointUrl: fixture.url })).status).toBe(201);
      expect((await call(k8s().apiUrl, 'POST', '/v1/functions/external:invoke', { input: 1 })).status).toBe(200);
    });
  });
}
