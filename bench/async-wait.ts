// Async wait: client back-off polling vs. the ?waitMs long-poll, against the in-process control plane
// and the fixture runtime (pool path). One run compares both; figures go to BENCHMARKS.md by hand.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../control-plane/src/config.js';
import { createControlPlane } from '../control-plane/src/control-plane.js';
import { startFixtureRuntime } from '../test/fixtures/fixture-runtime.js';

const fixture = await startFixtureRuntime();
const dir = mkdtempSync(join(tmpdir(), 'lpbench-'));
const cp = await createControlPlane(
  loadConfig({ NANOFAAS_PORT: '0', NANOFAAS_STATE_DIR: dir, NANOFAAS_WORKLOAD_BACKEND: 'pool', NANOFAAS_LOG_LEVEL: 'silent' }),
);
const { apiUrl } = await cp.start();
await fetch(`${apiUrl}/v1/functions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'b', endpointUrl: fixture.url, concurrency: 8 }),
});
const TERMINAL = new Set(['success', 'error', 'timeout']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function one(mode: 'backoff' | 'longpoll', sleepMs: number): Promise<{ ms: number; gets: number }> {
  const t0 = performance.now();
  const r = await fetch(`${apiUrl}/v1/functions/b:enqueue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: { sleepMs } }),
  });
  const { executionId } = (await r.json()) as { executionId: string };
  let gets = 0;
  let pause = 5;
  for (;;) {
    gets++;
    const q = mode === 'longpoll' ? '?waitMs=5000' : '';
    const s = (await (await fetch(`${apiUrl}/v1/executions/${executionId}${q}`)).json()) as { status: string };
    if (TERMINAL.has(s.status)) return { ms: performance.now() - t0, gets };
    if (mode === 'backoff') {
      await sleep(pause);
      pause = Math.min(pause * 2, 100);
    }
  }
}
for (const sleepMs of [20, 150]) {
  for (const mode of ['backoff', 'longpoll'] as const) {
    const lat: number[] = [];
    let gets = 0;
    const N = 100;
    for (let i = 0; i < 5; i++) await one(mode, sleepMs);
    for (let i = 0; i < N; i++) {
      const o = await one(mode, sleepMs);
      lat.push(o.ms);
      gets += o.gets;
    }
    lat.sort((a, b) => a - b);
    const p = (q: number) => lat[Math.min(N - 1, Math.floor(q * N))]!.toFixed(1);
    console.log(
      `fixture ${sleepMs}ms ${mode.padEnd(8)} e2e p50 ${p(0.5)} ms p95 ${p(0.95)} ms overhead p50 ${(Number(p(0.5)) - sleepMs).toFixed(1)} ms, GETs/execution ${(gets / N).toFixed(2)}`,
    );
  }
}
await cp.close();
await fixture.close();
