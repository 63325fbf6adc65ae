/**
 * Issue 12 §1: with a REAL Prometheus (/usr/bin/prometheus, scraping every 1 s) scraping a REAL
 * control plane (control-plane/dist/main.js, pool backend), a short built-in load test against a
 * function whose calls take 4–10 ms yields whole-window Prometheus percentiles within 25 % of the
 * client's own p50/p95 (the snapshot code of src/loadtest/prometheus.ts, the comparison of
 * src/report/prometheus-agreement.ts).
 *
 * The compared histogram is end-to-end latency (acceptance → terminal state). The client times the
 * whole HTTP round trip; e2e covers all of it but the request's parse and the answer's write on
 * the control plane: tenths of a millisecond on a quiet machine, more on a busy one, where every
 * process wake-up waits for a core. e2e holds three wake-ups (runtime reads, runtime's timer,
 * control plane reads the answer), the client two more (control plane reads the request, client
 * reads the answer): with calls of ~7 ms and w ms per wake-up the ratio is about (7+3w)/(7+5w),
 * within 25 % while w stays under ~2 ms, hence the light load (2 VUs) this test puts on the
 * machine. On the 2-core box at load average 10–17 (other test runs) it read 0.84–0.92; with a
 * core burnt on top of that load (w ≈ 6 ms, calls at 38 ms) p50 fell to 0.69.
 * The per-attempt latency histogram would also leave out the queue and the dispatch, so it is
 * checked only to read at most the e2e figure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import baseProfile from '../../k6/profile.json' with { type: 'json' };
import { METRICS } from '../../control-plane/src/contracts/metrics.js';
import { runLoad } from '../../src/loadtest/engine.js';
import { parseProfile } from '../../src/loadtest/profile.js';
import { snapshotWindow } from '../../src/loadtest/prometheus.js';
import { prometheusAgreement } from '../../src/report/prometheus-agreement.js';
import { startControlPlane, type RunningControlPlane } from '../control-plane/helpers.js';
import { type RealPrometheus, startPrometheus, stopChild } from '../util/real-prometheus.js';

const FN = 'agree-fn';
const VUS = 2;
const WARM_UP_CALLS = 40;

/**
 * The function: a runtime (docs/design.md §5.2) in its own process, so its timers do not share an
 * event loop with the load engine. Calls sleep 4..10 ms in turn, spreading over several of the
 * fine buckets; an input `sleepMs` overrides that (the warm-up's slow calls).
 */
const RUNTIME_SCRIPT = `
const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString()).input ?? {};
    const ms = typeof input.sleepMs === 'number' ? input.sleepMs : 4 + (n++ % 7);
    const wordCount = String(input.text ?? '').split(' ').length;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ wordCount })), ms);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;

let work: string;
let runtime: ChildProcess | undefined;
let cp: RunningControlPlane | undefined;
let prometheus: RealPrometheus | undefined;

function startRuntime(): Promise<string> {
  const child = spawn(process.execPath, ['-e', RUNTIME_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  runtime = child;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`runtime exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`),
    );
  });
}

async function instant(expr: string): Promise<number | undefined> {
  const value = (await prometheus!.query(expr))[0]?.value;
  return value === undefined ? undefined : Number(value[1]);
}

const waitFor = (check: () => Promise<boolean>, timeoutMs: number, what: string) => prometheus!.waitFor(check, timeoutMs, what);

const stop = stopChild;

async function invoke(input: unknown): Promise<number> {
  const res = await fetch(`${cp!.apiUrl}/v1/functions/${FN}:invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  await res.text();
  return res.status;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nanofaas-agree-'));
  const runtimeUrl = await startRuntime();
  cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'pool', NANOFAAS_LOG_LEVEL: 'warn' }, join(work, 'cp'));
  const managementPort = new URL(cp.managementUrl).port;

  prometheus = await startPrometheus(work, [`127.0.0.1:${managementPort}`]);

  const registered = await fetch(`${cp.apiUrl}/v1/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // Concurrency above the VU count: no call waits in the queue for a slot.
    body: JSON.stringify({ name: FN, executionMode: 'POOL', endpointUrl: runtimeUrl, timeoutMs: 5_000, concurrency: 2 * VUS }),
  });
  expect(registered.status, await registered.text()).toBe(201);

  // A warm-up outside the window, slow on purpose (40 ms): it must not leak into the window's
  // figures. The window starts only once Prometheus holds a scrape that counted all of it.
  for (let i = 0; i < WARM_UP_CALLS; i++) expect(await invoke({ text: 'warm up', sleepMs: 40 })).toBe(200);
  await waitFor(
    async () => (await instant(`${METRICS.e2eLatency}_count{function="${FN}"}`)) === WARM_UP_CALLS,
    30_000,
    'Prometheus to ingest the warm-up',
  );
}, 90_000);

afterAll(async () => {
  await Promise.all([prometheus?.stop(), cp?.stop(), stop(runtime)]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Prometheus percentiles agree with the client (real Prometheus, 1–10 ms calls)', () => {
  it('whole-window p50/p95 of e2e latency are within 25 % of the client p50/p95', async () => {
    const profile = parseProfile({
      ...baseProfile,
      stages: [
        { duration: '1s', target: VUS },
        { duration: '10s', target: VUS },
        { duration: '1s', target: 0 },
      ],
      // A light closed loop (~70 req/s, ~800 calls): the figures are about timing, not
      // throughput, and every process this test adds to a busy machine delays the others.
      thinkTimeSeconds: 0.02,
      requestTimeoutSeconds: 5,
    });
    const result = await runLoad({ baseUrl: cp!.apiUrl, function: FN, workload: 'word-stats', runtime: 'node' }, { profile, mode: 'sync' });
    const m = result.summary.metrics;
    expect(m.http_req_failed.passes).toBe(0);
    // ~800 on a quiet machine; a p95 wants a hundred or more even on a busy one.
    expect(m.http_reqs.count).toBeGreaterThan(100);

    const window = { function: FN, runtime: 'node', start: result.start.toISOString(), end: result.end.toISOString() };
    // snapshotWindow waits (an event: Prometheus's API) until a scrape after the window's end is in.
    const snapshot = await snapshotWindow(prometheus!.url, window, { ingestTimeoutMs: 20_000 });
    const whole = snapshot.whole!;
    expect(whole.complete).toBe(true);
    expect(Date.parse(whole.at)).toBeGreaterThanOrEqual(result.end.getTime());
    // Exact counter differences: every call of the window, none of the warm-up. (A VU stopped by
    // the graceful stop may have had one call dropped from the client's count, not the server's.)
    expect(whole.counts.e2e).toBeGreaterThanOrEqual(m.http_reqs.count);
    expect(whole.counts.e2e).toBeLessThanOrEqual(m.http_reqs.count + VUS);
    expect(whole.counts.latency).toBe(whole.counts.e2e);

    const agreement = prometheusAgreement(result.summary, snapshot)!;
    const detail = JSON.stringify({ agreement, whole, client: m.http_req_duration });
    expect(agreement.metric, detail).toBe('e2e');
    expect(agreement.ratio50, detail).toBeGreaterThanOrEqual(0.75);
    expect(agreement.ratio50, detail).toBeLessThanOrEqual(1.25);
    expect(agreement.ratio95, detail).toBeGreaterThanOrEqual(0.75);
    expect(agreement.ratio95, detail).toBeLessThanOrEqual(1.25);
    expect(agreement.agrees, detail).toBe(true);
    // The calls sleep at least 2 ms: a figure below is a bucket artefact, not a measurement.
    expect(agreement.serverP50!, detail).toBeGreaterThan(2);
    // Per attempt, the runtime call alone: never more than the e2e figure it is part of.
    expect(whole.percentiles.latency.p50!, detail).toBeLessThanOrEqual(whole.percentiles.e2e.p50! * 1.05);
    // Queue wait with free slots: well under a millisecond, timed with performance.now() into the
    // 50/100/250 µs buckets (with Date.now() it was a whole 0 ms, read as the first bucket's middle).
    expect(whole.percentiles.queueWait.p95!, detail).toBeLessThan(1);
    expect(whole.percentiles.queueWait.p50!, detail).toBeGreaterThan(0);
    console.log(`agreement: ${detail}`);
  }, 90_000);
});
