/**
 * Every runtime × demo function of functions/catalog.json, started as a real process through the
 * same launch descriptor the process backend uses, against the contract of docs/design.md §5 and the shared vectors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  groupKeyOrder,
  loadCatalog,
  loadFixtures,
  loadVectors,
  postJson,
  specFor,
  startRuntime,
  type CatalogFunction,
  type RunningRuntime,
} from './harness.js';

const RUNTIME_METRIC_NAMES = [
  'runtime_invocations_total',
  'runtime_invocation_duration_seconds',
  'runtime_in_flight',
  'runtime_cold_start_total',
  'runtime_init_duration_seconds',
];

const catalog = loadCatalog();
const runtimes = [...new Set(catalog.functions.map((f) => f.runtime))];

describe.each(runtimes)('%s runtime', (runtime) => {
  const functions = catalog.functions.filter((f) => f.runtime === runtime);

  describe.each(functions)('$name', (fn: CatalogFunction) => {
    let rt: RunningRuntime;
    const vectors = loadVectors(fn.workload);
    beforeAll(async () => {
      rt = await startRuntime(specFor(fn));
    });
    afterAll(async () => {
      await rt?.stop();
    });

    it('answers GET /health with 200 once loaded', async () => {
      const res = await fetch(`${rt.url}/health`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    });

    it('marks only the first invocation as a cold start', async () => {
      const first = await postJson(`${rt.url}/invoke`, { input: vectors[0]!.input, metadata: {} }, { 'x-execution-id': 'cold-1' });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cold-start')).toBe('true');
      expect(Number(first.headers.get('x-init-duration-ms'))).toBeGreaterThanOrEqual(0);
      const second = await postJson(`${rt.url}/invoke`, { input: vectors[0]!.input, metadata: {} });
      expect(second.status).toBe(200);
      expect(second.headers.get('x-cold-start')).toBeNull();
    });

    it.each(vectors)('vector: $name', async (vector) => {
      const res = await postJson(
        `${rt.url}/invoke`,
        { input: vector.input, metadata: { vector: vector.name } },
        {
          'x-execution-id': `vec-${Math.random().toString(36).slice(2)}`,
          'x-trace-id': 'conformance',
          'x-dispatch-attempt': '1',
        },
      );
      if (vector.error !== undefined) {
        expect(res.status, res.text).toBe(400);
        expect(res.body).toMatchObject({ error: vector.error, message: expect.any(String) });
      } else {
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual(vector.output);
        expect(groupKeyOrder(res.body)).toEqual(groupKeyOrder(vector.output));
      }
    });

    it('rejects a request body that is not JSON with 400', async () => {
      const res = await postJson(`${rt.url}/invoke`, '{"input": ');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    });

    it('exposes the runtime metrics on GET /metrics', async () => {
      const res = await fetch(`${rt.url}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      for (const name of RUNTIME_METRIC_NAMES) expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_count)?[{ ]`, 'm'));
      expect(text).toMatch(/^runtime_invocations_total\{[^}]*outcome="success"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^runtime_invocations_total\{[^}]*outcome="invalid_input"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^runtime_cold_start_total(\{[^}]*\})? 1(\.0)?$/m);
    });
  });

  describe('failure fixtures', () => {
    const fixtures = loadFixtures(runtime);
    const timeoutMs = 1000;
    let slow: RunningRuntime;
    let crash: RunningRuntime;
    const base = functions[0]!;
    beforeAll(async () => {
      [slow, crash] = await Promise.all([
        startRuntime(specFor({ ...base, name: `slow-${runtime}`, handler: fixtures.slow }, { timeoutMs })),
        startRuntime(specFor({ ...base, name: `crash-${runtime}`, handler: fixtures.crash })),
      ]);
    });
    afterAll(async () => {
      await Promise.all([slow?.stop(), crash?.stop()]);
    });

    it(`answers 504 TIMEOUT at TIMEOUT_MS for a handler that never finishes`, async () => {
      const started = Date.now();
      const res = await postJson(`${slow.url}/invoke`, { input: {}, metadata: {} });
      const elapsed = Date.now() - started;
      expect(res.status, res.text).toBe(504);
      expect(res.body).toMatchObject({ error: 'TIMEOUT', message: expect.any(String) });
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
      // Ended by TIMEOUT_MS, not by the handler (which would take 60 s); the margin is wide
      // because a loaded machine only ever makes the answer later.
      expect(elapsed).toBeLessThan(timeoutMs + 15_000);
      // The runtime survives its handler's timeout.
      const health = await fetch(`${slow.url}/health`);
      await health.arrayBuffer();
      expect(health.status).toBe(200);
    });

    it('answers 500 FUNCTION_ERROR for a handler that fails', async () => {
      const res = await postJson(`${crash.url}/invoke`, { input: {}, metadata: {} });
      expect(res.status, res.text).toBe(500);
      expect(res.body).toMatchObject({ error: 'FUNCTION_ERROR', message: expect.stringContaining('crash fixture') });
      const again = await postJson(`${crash.url}/invoke`, { input: {}, metadata: {} });
      expect(again.status).toBe(500);
    });
  });
});
