/**
 * Every dashboard panel query against a REAL Prometheus (/usr/bin/prometheus) scraping a REAL
 * control plane (control-plane/dist/main.js, pool backend) that serves a tiny HTTP runtime started
 * here. The load is shaped so every series a panel reads exists: successes, runtime failures,
 * a sync timeout, queue rejections, async retries, queue depth and in-flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { untilMetric } from '../control-plane/helpers.js';
import { type RealPrometheus, startPrometheus, stopChild } from '../util/real-prometheus.js';
import { expandMacros, loadDashboard } from './dashboard-queries.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FN = 'dash-fn';
/** A second function with a long timeout, so a call can be held on it for as long as the test needs. */
const BUSY = 'dash-busy';

let work: string;
let runtime: Server;
let controlPlane: ChildProcess | undefined;
let prometheus: RealPrometheus | undefined;
let apiUrl = '';
let managementUrl = '';

/** Calls held by the runtime (mode "hold") until releaseHeld(); `heldCount` counts every one that arrived. */
const held: (() => void)[] = [];
let heldCount = 0;
const heldWatchers = new Set<() => void>();
const untilHeld = (count: number) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (heldCount < count) return;
      heldWatchers.delete(check);
      resolve();
    };
    heldWatchers.add(check);
    check();
  });
const releaseHeld = () => {
  for (const answer of held.splice(0)) answer();
};

/** The fake function runtime (docs/design.md §5 shape): input.mode chooses success, failure, or holding the call. */
function startRuntime(): Promise<string> {
  runtime = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return void res.writeHead(200).end('{}');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const input = (JSON.parse(body || '{}') as { input?: { mode?: string } }).input ?? {};
      const answer = (status: number, payload: unknown) => {
        // A held call the control plane gave up on has no one left to answer.
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      if (input.mode === 'fail') return answer(500, { error: 'FUNCTION_ERROR', message: 'asked to fail' });
      if (input.mode === 'hold') {
        held.push(() => answer(200, { echoed: 'hold' }));
        heldCount++;
        for (const check of [...heldWatchers]) check();
        return;
      }
      answer(200, { echoed: input.mode ?? 'ok' });
    });
  });
  return new Promise((resolve) =>
    runtime.listen(0, '127.0.0.1', () => {
      const addr = runtime.address();
      resolve(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`);
    }),
  );
}

/** Start a child and resolve with its first stdout line matching `ready`. */
function startChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  where: 'stdout' | 'stderr',
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not become ready:\n${seen.slice(-2000)}`)), 30_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    };
    child[where]!.on('data', onData);
    (where === 'stdout' ? child.stderr : child.stdout)!.on('data', (c: Buffer) => (seen += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${seen.slice(-2000)}`));
    });
  });
}

async function post(path: string, body: unknown): Promise<number> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const query = (expr: string): Promise<unknown[]> => prometheus!.query(expr);

const stop = stopChild;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nanofaas-dash-'));
  const runtimeUrl = await startRuntime();

  const cp = await startChild(
    process.execPath,
    [join(ROOT, 'control-plane/dist/main.js')],
    {
      ...process.env,
      NANOFAAS_PORT: '0',
      NANOFAAS_HOST: '127.0.0.1',
      NANOFAAS_WORKLOAD_BACKEND: 'pool',
      NANOFAAS_STATE_DIR: join(work, 'cp'),
      NANOFAAS_RETRY_BASE_DELAY_MS: '10',
      NANOFAAS_RETRY_MAX_DELAY_MS: '50',
      NANOFAAS_LOG_LEVEL: 'warn',
    },
    /"msg":"listening"/,
    'stdout',
  );
  controlPlane = cp.child;
  const listening = JSON.parse(cp.line) as { apiUrl: string; managementPort: number };
  apiUrl = listening.apiUrl;
  managementUrl = `http://127.0.0.1:${listening.managementPort}`;

  prometheus = await startPrometheus(work, [`127.0.0.1:${listening.managementPort}`]);

  expect(
    await post('/v1/functions', {
      name: FN,
      executionMode: 'POOL',
      endpointUrl: runtimeUrl,
      timeoutMs: 400,
      concurrency: 1,
      queueSize: 1,
      maxRetries: 2,
    }),
  ).toBe(201);
  expect(
    await post('/v1/functions', {
      name: BUSY,
      executionMode: 'POOL',
      endpointUrl: runtimeUrl,
      timeoutMs: 30_000,
      concurrency: 1,
      queueSize: 1,
      maxRetries: 0,
    }),
  ).toBe(201);
}, 60_000);

afterAll(async () => {
  await Promise.all([prometheus?.stop(), stop(controlPlane)]);
  await new Promise<void>((resolve) => (runtime ? runtime.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('dashboard queries against a real Prometheus', () => {
  it('every panel query returns data once the control plane has served a little load', async () => {
    // Let Prometheus scrape the fresh control plane at least once before the counters move.
    await waitFor(
      async () => (await query('up{job="nanofaas-control-plane"} == 1')).length > 0,
      20_000,
      'Prometheus scraping the control plane',
    );

    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await post(`/v1/functions/${FN}:invoke`, { input: { mode: 'ok' } }));
    statuses.push(await post(`/v1/functions/${FN}:invoke`, { input: { mode: 'fail' } }));
    // Held by the runtime past the 400 ms timeout: a sync timeout (504).
    statuses.push(await post(`/v1/functions/${FN}:invoke`, { input: { mode: 'hold' } }));
    // concurrency 1 + queue 1: with one call held running and one queued, more are refused (429);
    // the held and queued calls fill the gauges.
    const running = post(`/v1/functions/${BUSY}:invoke`, { input: { mode: 'hold' } });
    await untilHeld(2);
    const queued = post(`/v1/functions/${BUSY}:invoke`, { input: { mode: 'ok' } });
    await untilMetric(managementUrl, METRICS.queueDepth, BUSY, 1);
    for (let i = 0; i < 4; i++) statuses.push(await post(`/v1/functions/${BUSY}:invoke`, { input: { mode: 'ok' } }));
    releaseHeld();
    statuses.push(await running, await queued);
    // Async failures are retried (maxRetries 2).
    for (let i = 0; i < 2; i++) statuses.push(await post(`/v1/functions/${FN}:enqueue`, { input: { mode: 'fail' } }));
    for (let i = 0; i < 3; i++) statuses.push(await post(`/v1/functions/${FN}:enqueue`, { input: { mode: 'ok' } }));

    expect(statuses).toContain(200);
    expect(statuses).toContain(502);
    expect(statuses).toContain(504);
    expect(statuses).toContain(429);
    expect(statuses).toContain(202);

    const panels = loadDashboard().panels;
    const pending = new Map(panels.flatMap((p) => p.targets.map((t) => [`${p.title} [${t.refId}]`, expandMacros(t.expr)] as const)));
    await waitFor(
      async () => {
        for (const [name, expr] of pending) if ((await query(expr)).length > 0) pending.delete(name);
        return pending.size === 0;
      },
      30_000,
      'every panel query to return data',
    ).catch(() => undefined);
    expect([...pending.keys()], 'panel queries still empty').toEqual([]);
    expect(panels).toHaveLength(7);
  }, 90_000);
});

/** Test-side wait on an external system (Prometheus scrapes every 1 s); not product code. */
function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return prometheus!.waitFor(check, timeoutMs, what);
}
