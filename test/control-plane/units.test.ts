/** Unit tests of the small pure pieces: config, back-off, admission, FIFO, execution store, route patterns. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../control-plane/src/config.js';
import { routePattern } from '../../control-plane/src/api/not-found.js';
import { admissionReason, ServiceTime } from '../../control-plane/src/invocation/admission.js';
import { ExecutionStore, toExecutionStatus } from '../../control-plane/src/invocation/executions.js';
import { Fifo } from '../../control-plane/src/invocation/fifo.js';
import { backoffDelayMs, shouldRetryAsync, shouldRetrySync } from '../../control-plane/src/invocation/retry.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';

describe('config', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      managementPort: 8081,
      logLevel: 'warn',
      backend: 'process',
      bodyLimitBytes: 1_048_576,
      defaults: { timeoutMs: 30_000, concurrency: 4, queueSize: 100, maxRetries: 3 },
      admission: { enabled: true, maxEstimatedWaitMs: 2_000, maxQueueWaitMs: 5_000, retryAfterSeconds: 2 },
    });
    expect(config.apiToken).toBeUndefined();
  });

  it('reads the environment and refuses malformed values with the variable name', () => {
    const config = loadConfig({
      NANOFAAS_PORT: '0',
      SYNC_QUEUE_ADMISSION_ENABLED: 'false',
      NANOFAAS_WORKLOAD_BACKEND: 'pool',
      NANOFAAS_API_TOKEN: 't',
    });
    expect(config).toMatchObject({ port: 0, managementPort: 0, backend: 'pool', apiToken: 't', admission: { enabled: false } });
    expect(() => loadConfig({ NANOFAAS_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ NANOFAAS_PORT: '70000' })).toThrow(/NANOFAAS_PORT/);
    expect(() => loadConfig({ SYNC_QUEUE_ADMISSION_ENABLED: 'maybe' })).toThrow(/SYNC_QUEUE_ADMISSION_ENABLED/);
    expect(() => loadConfig({ NANOFAAS_WORKLOAD_BACKEND: 'nomad' })).toThrow(/process, kubernetes, pool, docker/);
  });
});

describe('retry policy', () => {
  it('async retries 5xx, connection failures and timeouts up to maxRetries, never 4xx', () => {
    expect(shouldRetryAsync('failed', 1, 3)).toBe(true);
    expect(shouldRetryAsync('connection', 3, 3)).toBe(true);
    expect(shouldRetryAsync('timeout', 4, 3)).toBe(false);
    expect(shouldRetryAsync('rejected', 1, 3)).toBe(false);
  });

  it('sync retries only a refused connection (or any connection failure with an Idempotency-Key), only within the deadline', () => {
    expect(shouldRetrySync('refused', 1, 3, 100)).toBe(true);
    expect(shouldRetrySync('refused', 1, 3, 0)).toBe(false);
    expect(shouldRetrySync('connection', 1, 3, 100)).toBe(false);
    expect(shouldRetrySync('connection', 1, 3, 100, true)).toBe(true);
    expect(shouldRetrySync('connection', 4, 3, 100, true)).toBe(false);
    expect(shouldRetrySync('failed', 1, 3, 100)).toBe(false);
    expect(shouldRetrySync('timeout', 1, 3, 100)).toBe(false);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelayMs(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelayMs(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 10_000, () => 1)).toBe(400);
    expect(backoffDelayMs(20, 100, 10_000, () => 1)).toBe(10_000);
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelayMs(4, 100, 10_000)));
    expect(samples.size).toBeGreaterThan(1);
  });
});

describe('admission', () => {
  const policy = { enabled: true, maxEstimatedWaitMs: 100 };
  it('admits without queueing when a slot is free, and without history even when queueing', () => {
    const fresh = new ServiceTime();
    expect(admissionReason({ queued: 0, inFlight: 0, concurrency: 1, queueSize: 0, serviceTime: fresh }, policy, true)).toBeUndefined();
    expect(admissionReason({ queued: 5, inFlight: 1, concurrency: 1, queueSize: 10, serviceTime: fresh }, policy, true)).toBeUndefined();
  });

  it('rejects on depth, and on the estimated wait once measured (sync only, when enabled)', () => {
    const measured = new ServiceTime();
    measured.observe(80);
    const input = { queued: 1, inFlight: 1, concurrency: 1, queueSize: 10, serviceTime: measured };
    expect(admissionReason(input, policy, true)).toBe('est_wait');
    expect(admissionReason(input, policy, false)).toBeUndefined();
    expect(admissionReason(input, { ...policy, enabled: false }, true)).toBeUndefined();
    expect(admissionReason({ ...input, queued: 10 }, policy, false)).toBe('depth');
    expect(admissionReason({ ...input, concurrency: 4, inFlight: 4, queued: 0 }, policy, true)).toBeUndefined();
  });
});

describe('Fifo', () => {
  it('keeps order across growth, front insertion and draining', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 40; i++) fifo.push(i);
    expect(fifo.shift()).toBe(0);
    fifo.unshift(-1);
    expect(fifo.length).toBe(40);
    const drained = fifo.drain();
    expect(drained[0]).toBe(-1);
    expect(drained.slice(1)).toEqual(Array.from({ length: 39 }, (_, i) => i + 1));
    expect(fifo.shift()).toBeUndefined();
  });
});

describe('ExecutionStore', () => {
  it('expires records a TTL after they finish (not after creation) and caps finished records', () => {
    let now = 1_000_000;
    const store = new ExecutionStore({ ttlMs: 1_000, maxRecords: 100, now: () => now });
    const long = store.create('f');
    now += 5_000; // created long ago, still running: must survive a sweep
    store.sweep();
    expect(store.get(long.id)).toBeDefined();
    expect(store.finish(long, { status: 'success', httpStatus: 200, outputJson: '{"a":1}' }, 1)).toBe(true);
    expect(store.finish(long, { status: 'error', httpStatus: 502 }, 1)).toBe(false);
    expect(toExecutionStatus(long)).toMatchObject({ status: 'success', output: { a: 1 }, error: null });
    now += 999;
    store.sweep();
    expect(store.get(long.id)).toBeDefined();
    now += 2;
    store.sweep();
    expect(store.get(long.id)).toBeUndefined();

    const ids = Array.from({ length: 150 }, () => {
      const e = store.create('f');
      store.finish(e, { status: 'success', httpStatus: 200, outputJson: '1' }, 1);
      return e.id;
    });
    expect(store.size).toBe(100);
    expect(store.get(ids[0]!)).toBeUndefined();
    expect(store.get(ids[149]!)).toBeDefined();
    store.close();
  });
});

describe('routePattern', () => {
  it('turns fastify route URLs into matchers that respect the :verb suffix', () => {
    expect(routePattern('/v1/functions/:name').test('/v1/functions/abc')).toBe(true);
    expect(routePattern('/v1/functions/:name').test('/v1/functions/abc:invoke')).toBe(false);
    expect(routePattern('/v1/functions/:name(^[^/:]+)::invoke').test('/v1/functions/abc:invoke')).toBe(true);
    expect(routePattern('/v1/functions/:name(^[^/:]+)::invoke').test('/v1/functions/abc:enqueue')).toBe(false);
    expect(routePattern('/v1/openapi.json').test('/v1/openapiXjson')).toBe(false);
  });
});

describe('resolveSpec', () => {
  const defaults = { timeoutMs: 30_000, concurrency: 4, queueSize: 100, maxRetries: 3 };
  it('fills defaults and picks the execution mode from the endpoint', () => {
    expect(resolveSpec({ name: 'a', image: 'x' }, defaults)).toMatchObject({
      executionMode: 'DEPLOYMENT',
      runtimeMode: 'HTTP',
      replicas: 1,
      ...defaults,
    });
    expect(resolveSpec({ name: 'b', endpointUrl: 'http://127.0.0.1:1' }, defaults).executionMode).toBe('POOL');
    expect(resolveSpec({ name: 'c', image: 'x', scalingConfig: { minReplicas: 2 } }, defaults).replicas).toBe(2);
  });
});
