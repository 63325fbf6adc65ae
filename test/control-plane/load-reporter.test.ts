// The load reporter: the control plane feeds each function's real queue depth / in-flight count to
// a backend's observeLoad, and the kubernetes backend's internal scaler acts on it. The kubernetes
// part runs the built control plane against the FAKE API server of test/kubernetes (no cluster).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../control-plane/src/config.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/src/control-plane.js';
import { startLoadReporter } from '../../control-plane/src/invocation/load-reporter.js';
import { createBackend } from '../../control-plane/src/workloads/index.js';
import { onGate, startFixtureRuntime, type FixtureRuntime } from '../fixtures/fixture-runtime.js';
import { startFakeApiServer, type FakeApiServer } from '../kubernetes/fake-apiserver.js';
import { kubeConfigFor, NAMESPACE, TOKEN } from '../kubernetes/helpers.js';
import { call, removeDir, sleep, startControlPlane, tempStateDir, until, ROOT, type RunningControlPlane } from './helpers.js';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function stateDir(): string {
  const dir = tempStateDir();
  dirs.push(dir);
  return dir;
}

interface Report {
  name: string;
  queueDepth: number;
  inFlight: number;
}

/** The real control plane (pool path) with its backend wrapped to record observeLoad calls. */
async function recordingControlPlane(): Promise<{ cp: ControlPlane; apiUrl: string; managementUrl: string; reports: Report[] }> {
  const dir = stateDir();
  const pool = createBackend({ kind: 'pool', namespace: 'unused', rootDir: ROOT, stateDir: dir, logger: silent });
  const reports: Report[] = [];
  const backend = {
    ...pool,
    observeLoad: (name: string, load: { queueDepth: number; inFlight: number }) => void reports.push({ name, ...load }),
  };
  const config = loadConfig({
    NANOFAAS_PORT: '0',
    NANOFAAS_STATE_DIR: dir,
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
    NANOFAAS_LOG_LEVEL: 'silent',
  });
  const cp = await createControlPlane(config, silent, { backend, loadReportIntervalMs: 40 });
  cleanups.push(() => cp.close());
  const { apiUrl, managementUrl } = await cp.start();
  return { cp, apiUrl, managementUrl, reports };
}

const latest = (reports: Report[], name: string): Report | undefined => reports.findLast((r) => r.name === name);

async function gauge(managementUrl: string, metric: string, fn: string): Promise<number | undefined> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{function="${fn}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('load reports from the control plane', () => {
  it('reports the real queue depth and in-flight count of each function, and nothing after shutdown', async () => {
    const runtime: FixtureRuntime = await startFixtureRuntime();
    cleanups.push(() => runtime.close());
    const { cp, apiUrl, managementUrl, reports } = await recordingControlPlane();

    for (const name of ['slow', 'quiet']) {
      const reg = await call(apiUrl, 'POST', '/v1/functions', { name, endpointUrl: runtime.url, concurrency: 2, queueSize: 20 });
      expect(reg.status).toBe(201);
    }
    // Three waves held at the runtime until the test opens their gate, so each load level stays put
    // until a report has seen it.
    const waves = ['wave-1', 'wave-1', 'wave-2', 'wave-2', 'wave-3'];
    const ids: string[] = [];
    for (const gate of waves) {
      const accepted = await call(apiUrl, 'POST', '/v1/functions/slow:enqueue', { input: { gate } });
      expect(accepted.status).toBe(202);
      ids.push(accepted.body.executionId);
    }
    const nextReport = async (what: string) => {
      const mark = reports.length;
      await until(() => reports.slice(mark).some((r) => r.name === 'slow'), 5000, what);
    };
    // 2 running at the runtime (concurrency 2), 3 waiting in the control plane's queue.
    await runtime.received(onGate('wave-1'), 2);
    await nextReport('a report after the work started');
    expect(latest(reports, 'slow')).toEqual({ name: 'slow', queueDepth: 3, inFlight: 2 });
    expect(latest(reports, 'quiet')).toEqual({ name: 'quiet', queueDepth: 0, inFlight: 0 });
    // The same numbers the metrics gauges show, and the runtime really has two running.
    expect(await gauge(managementUrl, 'function_queue_depth', 'slow')).toBe(3);
    expect(await gauge(managementUrl, 'function_in_flight', 'slow')).toBe(2);
    expect(runtime.stats.inFlight).toBe(2);

    // As the queue drains the reports follow it down to idle.
    runtime.openGate('wave-1');
    await runtime.received(onGate('wave-2'), 2);
    await nextReport('a report of the second wave');
    runtime.openGate('wave-2');
    runtime.openGate('wave-3');
    await until(
      async () => {
        const statuses = await Promise.all(ids.map(async (id) => (await call(apiUrl, 'GET', `/v1/executions/${id}`)).body.status));
        return statuses.every((s) => s === 'success');
      },
      10_000,
      'all invocations to succeed',
    );
    await nextReport('a report after the drain');
    expect(latest(reports, 'slow')).toEqual({ name: 'slow', queueDepth: 0, inFlight: 0 });
    const seenDepths = new Set(reports.filter((r) => r.name === 'slow').map((r) => `${r.queueDepth}/${r.inFlight}`));
    expect(seenDepths).toContain('1/2'); // the third wave: one left waiting behind two running

    await cp.close();
    const afterClose = reports.length;
    // That nothing comes can only be watched over a window (five report periods); a reporter that
    // stopped passes however long the window really lasts, so this wait cannot make the test flaky.
    await sleep(200);
    expect(reports.length).toBe(afterClose);
  });

  it('a backend without observeLoad gets no reporter: the router only offers it when a backend has it', () => {
    const dir = stateDir();
    const pool = createBackend({ kind: 'pool', namespace: 'unused', rootDir: ROOT, stateDir: dir, logger: silent });
    const processBackend = createBackend({ kind: 'process', namespace: 'unused', rootDir: ROOT, stateDir: dir, logger: silent });
    cleanups.push(
      () => pool.close(),
      () => processBackend.close(),
    );
    expect(pool.observeLoad).toBeUndefined();
    expect(processBackend.observeLoad).toBeUndefined();
  });

  it('keeps reporting the other functions when the observer throws for one, and rejects a bad interval', () => {
    const seen: string[] = [];
    const errors: string[] = [];
    const reporter = startLoadReporter({
      source: (visit) => {
        visit('bad', 1, 0);
        visit('good', 2, 1);
      },
      observe: (name, load) => {
        if (name === 'bad') throw new Error('boom');
        seen.push(`${name}:${load.queueDepth}/${load.inFlight}`);
      },
      intervalMs: 60_000,
      onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
    });
    reporter.report();
    reporter.stop();
    expect(seen).toEqual(['good:2/1']);
    expect(errors).toEqual(['bad: boom']);
    expect(() => startLoadReporter({ source: () => undefined, observe: () => undefined, intervalMs: 0, onError: () => undefined })).toThrow(
      /positive number of ms, got 0/,
    );
  });
});

describe('kubernetes: the internal scaler acts on the control plane load reports (FAKE API server)', () => {
  let api: FakeApiServer | undefined;
  let cp: RunningControlPlane | undefined;

  afterAll(async () => {
    await cp?.stop();
    await api?.close();
  });

  it('scales an INTERNAL function up from queued work and leaves a NONE function alone', async () => {
    api = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
    const dir = mkdtempSync(join(tmpdir(), 'nanofaas-kubeconfig-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, kubeConfigFor(api.url).exportConfig());
    cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'kubernetes', NANOFAAS_NAMESPACE: NAMESPACE, KUBECONFIG: kubeconfig });
    dirs.push(cp.stateDir);

    const base = { image: 'localhost:5000/nanofaas/demo:0.1.0', concurrency: 2, queueSize: 50 };
    const fixed = await call(cp.apiUrl, 'POST', '/v1/functions', { ...base, name: 'fixed', scalingConfig: { strategy: 'NONE' } });
    const auto = await call(cp.apiUrl, 'POST', '/v1/functions', {
      ...base,
      name: 'auto',
      scalingConfig: { strategy: 'INTERNAL', minReplicas: 1, maxReplicas: 5 },
    });
    expect([fixed.status, auto.status]).toEqual([201, 201]);
    expect(api.get('Deployment', 'fn-auto')!.spec.replicas).toBe(1);

    // No replica is ready (the fake kubelet reports none), so every invocation stays queued:
    // 6 waiting / 2 per replica → 3 replicas wanted. `fixed` is queued first, so any scaler tick
    // that saw `auto`'s load saw `fixed`'s too.
    for (const name of ['fixed', 'auto']) {
      for (let i = 0; i < 6; i++) expect((await call(cp.apiUrl, 'POST', `/v1/functions/${name}:enqueue`, { input: i })).status).toBe(202);
    }
    // The scaler evaluates every 5 s (its default), the control plane reports every 1 s.
    await until(() => api!.get('Deployment', 'fn-auto')!.spec.replicas === 3 || undefined, 15_000, 'fn-auto to be scaled to 3');
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.path.split('/').pop())).toEqual(['fn-auto']);
    expect(api.get('Deployment', 'fn-fixed')!.spec.replicas).toBe(1);
    // The control plane's own view follows through the Deployment watch.
    await until(
      async () => (await call(cp!.apiUrl, 'GET', '/v1/functions/auto')).body.status.replicas === 3 || undefined,
      5000,
      'status.replicas 3',
    );
  }, 30_000);
});
