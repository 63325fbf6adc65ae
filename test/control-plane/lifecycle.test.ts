/** Restart persistence, graceful shutdown, and the management port (metrics, health). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { call, finalExecution, removeDir, startControlPlane, tempStateDir, untilMetric, type RunningControlPlane } from './helpers.js';

let fixture: FixtureRuntime;
const started: RunningControlPlane[] = [];
const dirs: string[] = [];

async function start(env: Record<string, string> = {}, stateDir?: string) {
  const cp = await startControlPlane(env, stateDir);
  started.push(cp);
  if (!dirs.includes(cp.stateDir)) dirs.push(cp.stateDir);
  return cp;
}

beforeAll(async () => {
  fixture = await startFixtureRuntime();
});

afterAll(async () => {
  await Promise.all(started.map((cp) => cp.stop()));
  await fixture?.close();
  dirs.forEach(removeDir);
});

describe('restart', () => {
  it('keeps registered functions across a restart, written atomically to the state directory', async () => {
    const stateDir = tempStateDir();
    const first = await start({}, stateDir);
    expect((await call(first.apiUrl, 'POST', '/v1/functions', { name: 'survivor', endpointUrl: fixture.url, concurrency: 7 })).status).toBe(
      201,
    );
    expect((await call(first.apiUrl, 'PUT', '/v1/functions/survivor/replicas', { replicas: 3 })).status).toBe(200);
    expect(await first.stop()).toBe(0);

    const file = join(stateDir, 'functions.json');
    expect(existsSync(file)).toBe(true);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { functions: { name: string }[] };
    expect(stored.functions.map((f) => f.name)).toEqual(['survivor']);

    const second = await start({}, stateDir);
    const view = await call(second.apiUrl, 'GET', '/v1/functions/survivor');
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ name: 'survivor', concurrency: 7, replicas: 3, status: { state: 'READY' } });
    const answer = await call(second.apiUrl, 'POST', '/v1/functions/survivor:invoke', { input: { after: 'restart' } });
    expect(answer.status).toBe(200);
    expect(answer.body.output).toEqual({ ok: true, input: { after: 'restart' } });

    expect((await call(second.apiUrl, 'DELETE', '/v1/functions/survivor')).status).toBe(204);
    expect(await second.stop()).toBe(0);
    const third = await start({}, stateDir);
    expect((await call(third.apiUrl, 'GET', '/v1/functions')).body).toEqual([]);
  });
});

describe('graceful shutdown', () => {
  it('lets in-flight calls finish, ends queued ones as SHUTTING_DOWN, exits 0', async () => {
    const cp = await start();
    await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'drain', endpointUrl: fixture.url, concurrency: 1 });
    const inFlight = call(cp.apiUrl, 'POST', '/v1/functions/drain:invoke', { input: { gate: 'drain' } });
    await fixture.received(onGate('drain'));
    const queued = call(cp.apiUrl, 'POST', '/v1/functions/drain:invoke', { input: { echo: 'queued' } });
    await untilMetric(cp.managementUrl, METRICS.queueDepth, 'drain', 1);
    cp.child.kill('SIGTERM');
    // The queued call is ended by the shutdown while the running one is still held at the runtime;
    // only then may the running one finish, inside the grace period.
    const b = await queued;
    fixture.openGate('drain');
    const a = await inFlight;
    expect(a.status).toBe(200);
    expect(b.status).toBe(503);
    expect(b.body).toMatchObject({ status: 'error', error: 'SHUTTING_DOWN' });
    expect(await cp.exited).toBe(0);
  });

  it('fails in-flight calls with a recorded outcome once the grace period is over', async () => {
    const cp = await start({ NANOFAAS_SHUTDOWN_GRACE_MS: '200' });
    await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'stuck', endpointUrl: fixture.url });
    // The runtime never answers (its gate stays shut): only the end of the grace period can end the call.
    const inFlight = call(cp.apiUrl, 'POST', '/v1/functions/stuck:invoke', { input: { gate: 'never' } });
    await fixture.received(onGate('never'));
    cp.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: 'error', error: 'SHUTTING_DOWN' });
    expect(await cp.exited).toBe(0);
  });
});

describe('management port', () => {
  let cp: RunningControlPlane;
  beforeAll(async () => {
    cp = await start({ NANOFAAS_WORKLOAD_BACKEND: 'pool' });
  });

  it('answers health and readiness (and the actuator aliases)', async () => {
    for (const path of ['/healthz', '/readyz', '/actuator/health/liveness', '/actuator/health/readiness']) {
      const response = await fetch(`${cp.managementUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({ status: 'UP' });
    }
    expect((await fetch(`${cp.managementUrl}/nope`)).status).toBe(404);
  });

  it('exposes every metric of docs/design.md §6.1 with the function label; sync and async both count in enqueue', async () => {
    await call(cp.apiUrl, 'POST', '/v1/functions', {
      name: 'metered',
      endpointUrl: fixture.url,
      concurrency: 1,
      queueSize: 0,
      maxRetries: 1,
    });
    for (let i = 0; i < 3; i++) expect((await call(cp.apiUrl, 'POST', '/v1/functions/metered:invoke', { input: i })).status).toBe(200);
    const queued = await call(cp.apiUrl, 'POST', '/v1/functions/metered:enqueue', { input: { failAttempts: 1 } });
    await finalExecution(cp.apiUrl, queued.body.executionId);
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/metered:invoke', { input: { status: 500 } })).status).toBe(502);
    const busy = call(cp.apiUrl, 'POST', '/v1/functions/metered:invoke', { input: { gate: 'metered' } });
    await fixture.received(onGate('metered'));
    expect((await call(cp.apiUrl, 'POST', '/v1/functions/metered:invoke', { input: 1 })).status).toBe(429);
    fixture.openGate('metered');
    await busy;

    for (const path of ['/metrics', '/actuator/prometheus']) {
      const response = await fetch(`${cp.managementUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      for (const name of Object.values(METRICS)) expect(text, name).toContain(`# TYPE ${name} `);
      const value = (metric: string) => Number(new RegExp(`^${metric}\\{function="metered"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value(METRICS.enqueue)).toBe(6); // 3 sync ok + 1 async + 1 sync failure + 1 busy; the rejected one is not accepted
      expect(value(METRICS.queueRejected)).toBe(1);
      expect(value(METRICS.success)).toBe(5);
      expect(value(METRICS.error)).toBe(1);
      expect(value(METRICS.retry)).toBe(1);
      expect(value(METRICS.dispatch)).toBe(7);
      expect(value(`${METRICS.latency}_count`)).toBe(7);
      expect(value(`${METRICS.e2eLatency}_count`)).toBe(6);
      expect(value(METRICS.queueDepth)).toBe(0);
      expect(value(METRICS.inFlight)).toBe(0);
      expect(text).toContain('process_cpu_user_seconds_total');
    }
  });
});
