// A runtime that says `Content-Type: application/json` but sends something that is not JSON:
// the invocation ends as a recorded error (502 FUNCTION_ERROR), never as malformed JSON passed to
// the caller or a 500 from GET /v1/executions/{id}.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, removeDir, startControlPlane, type Answer, type RunningControlPlane } from './helpers.js';

/** Answers by the `mode` of its input: broken JSON, valid JSON, or an empty JSON body. */
function startRuntime(): Promise<{ server: Server; url: string; calls: number[] }> {
  const calls: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push(Number(req.headers['x-dispatch-attempt']));
      const mode = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input?: { mode?: string } }).input?.mode;
      const body = mode === 'broken' ? '{"total": 3, "words": [' : mode === 'empty' ? '' : '{"fine":true}';
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls })),
  );
}

let runtime: Awaited<ReturnType<typeof startRuntime>>;
let cp: RunningControlPlane;
let api: string;
const statuses: number[] = [];

async function tracked(method: string, path: string, body?: unknown): Promise<Answer> {
  const answer = await call(api, method, path, body);
  statuses.push(answer.status);
  return answer;
}

beforeAll(async () => {
  runtime = await startRuntime();
  cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'pool' });
  api = cp.apiUrl;
  expect((await call(api, 'POST', '/v1/functions', { name: 'garbled', endpointUrl: runtime.url })).status).toBe(201);
});

afterAll(async () => {
  await cp?.stop();
  await new Promise((resolve) => runtime?.server.close(resolve));
  if (cp) removeDir(cp.stateDir);
});

function expectInvalidJsonError(answer: Answer): void {
  expect(answer.status, answer.text).toBe(502);
  expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(answer.body, `not JSON: ${answer.text}`).toBeDefined();
  expect(answer.body).toMatchObject({ status: 'error', error: 'FUNCTION_ERROR' });
  expect(answer.body.message).toMatch(/runtime returned invalid JSON/);
  expect(typeof answer.body.executionId).toBe('string');
}

describe('a runtime answering invalid JSON', () => {
  it.each([
    ['the node:http fast path', ''],
    ['the Fastify route', '?via=fastify'],
  ])('sync invoke via %s → 502 FUNCTION_ERROR with a JSON body, recorded as error', async (_path, query) => {
    const answer = await tracked('POST', `/v1/functions/garbled:invoke${query}`, { input: { mode: 'broken' } });
    expectInvalidJsonError(answer);
    const record = await tracked('GET', `/v1/executions/${answer.body.executionId}`);
    expect(record.status, record.text).toBe(200);
    expect(record.body).toMatchObject({ status: 'error', attempts: 1, error: { error: 'FUNCTION_ERROR' } });
    expect(record.body.error.message).toMatch(/runtime returned invalid JSON/);
    expect(record.body.output).toBeUndefined();
  });

  it('async enqueue → the execution ends as error (not retried) and GET answers 200', async () => {
    const before = runtime.calls.length;
    const accepted = await tracked('POST', '/v1/functions/garbled:enqueue', { input: { mode: 'broken' } });
    expect(accepted.status).toBe(202);
    const id = accepted.body.executionId as string;
    // The long-poll answers when the execution ends (a GET that throws would be a 500 here).
    const waited = await tracked('GET', `/v1/executions/${id}?waitMs=10000`);
    expect(waited.status, waited.text).toBe(200);
    expect(waited.body).toMatchObject({ status: 'error', attempts: 1, error: { error: 'FUNCTION_ERROR' } });
    expect(waited.body.error.message).toMatch(/runtime returned invalid JSON/);
    const record = await tracked('GET', `/v1/executions/${id}`);
    expect(record.status, record.text).toBe(200);
    expect(record.body).toEqual(waited.body);
    expect(runtime.calls.length - before).toBe(1);
  });

  it('valid and empty JSON answers still succeed on both paths', async () => {
    for (const query of ['', '?via=fastify']) {
      const fine = await tracked('POST', `/v1/functions/garbled:invoke${query}`, { input: { mode: 'fine' } });
      expect(fine.status, fine.text).toBe(200);
      expect(fine.body.output).toEqual({ fine: true });
      const empty = await tracked('POST', `/v1/functions/garbled:invoke${query}`, { input: { mode: 'empty' } });
      expect(empty.status, empty.text).toBe(200);
      expect(empty.body.output).toBeNull();
      const record = await tracked('GET', `/v1/executions/${fine.body.executionId}`);
      expect(record.body).toMatchObject({ status: 'success', output: { fine: true } });
    }
  });

  it('no 5xx other than the 502s', () => {
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s >= 500 && s !== 502)).toEqual([]);
  });
});
