/**
 * npm run bench:nats — NATS mode's async accept rate against the raw acknowledged-publish rate of
 * the same nats-server, side by side in one run (issue 14's floor: enqueues ≥ 0.5 × raw).
 *
 * One nats-server -js (store in a temp dir, random port). In alternating rounds:
 *  - raw: this process publishes BENCH_MESSAGES small messages to a scratch work-queue stream with
 *    `js.publish`, BENCH_WINDOW awaiting their acks at once (pipelined), and counts acks/s;
 *  - enqueue: `POST /v1/functions/sink:enqueue` at c=BENCH_CONCURRENCY against a control plane
 *    with NANOFAAS_NATS_URL (each 202 = one acknowledged publish), for as many requests; the
 *    function's endpoint accepts connections and never answers, so consumption costs the server
 *    little (one delivery per concurrency slot);
 *  - front: NatsAsyncFront.enqueue in this process (what an enqueue costs NATS mode, no HTTP),
 *    with the raw window;
 *  - memory: the same enqueue load against a control plane without NATS (today's default).
 * Env: BENCH_MESSAGES (default 20000), BENCH_WINDOW (256), BENCH_CONCURRENCY (32), BENCH_ROUNDS (2).
 * Needs /usr/bin/nats-server and a built control plane (`tsc -b control-plane`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import getPort from 'get-port';
import { NatsAsyncFront } from '../control-plane/src/nats/async-front.js';
import { connectNats } from '../control-plane/src/nats/client.js';
import { KvExecutionStore } from '../control-plane/src/nats/execution-kv.js';
import { NatsWorkQueue } from '../control-plane/src/nats/work-queue.js';
import { load, root, scratchDir, start, stopAll, summary } from './cp-lib.js';

const messages = Number(process.env.BENCH_MESSAGES ?? '20000');
const windowSize = Number(process.env.BENCH_WINDOW ?? '256');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const rounds = Number(process.env.BENCH_ROUNDS ?? '2');
const payload = JSON.stringify({ input: { text: 'the quick brown fox jumps over the lazy dog' } });

async function natsServer(): Promise<{ url: string; stop: () => void; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nanofaas-bench-nats-'));
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', '-1', '-sd', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let found = 0;
    child.once('error', reject);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /Listening for client connections on [^:]+:(\d+)/.exec(line);
      if (m) found = Number(m[1]);
      if (/Server is ready/.test(line)) resolve(found);
    });
  });
  return { url: `nats://127.0.0.1:${port}`, dir, stop: () => child.kill('SIGTERM') };
}

/** An endpoint that accepts connections and never answers: enqueued work stays queued. */
async function silentEndpoint(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  const port = await getPort({ host: '127.0.0.1' });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function rawPublishRate(url: string, round: number): Promise<number> {
  const client = await connectNats({ url });
  const { RetentionPolicy, StorageType } = client.jetstreamModule;
  const name = `BENCH_RAW_${round}`;
  await client.jsm.streams.add({
    name,
    subjects: [`bench.raw.${round}.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  });
  const body = new TextEncoder().encode(payload);
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: windowSize }, async () => {
      while (next < messages) {
        const i = next++;
        await client.js.publish(`bench.raw.${round}.${i}`, body);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  await client.jsm.streams.delete(name);
  await client.close();
  return messages / seconds;
}

/** NatsAsyncFront.enqueue in this process (no HTTP), as pipelined as the raw publishes. */
async function frontRate(url: string): Promise<number> {
  const client = await connectNats({ url });
  const queue = await NatsWorkQueue.open(client, { duplicateWindowMs: 120_000 });
  const store = await KvExecutionStore.open(client, { executionTtlMs: 900_000, idempotencyTtlMs: 900_000 });
  const front = new NatsAsyncFront(queue, store);
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: windowSize }, async () => {
      while (next < messages) {
        next++;
        await front.enqueue('bench-front', payload, { traceId: undefined, idempotencyKey: undefined });
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  await client.jsm.streams.purge('NANOFAAS_INVOCATIONS', { filter: 'nanofaas.inv.bench-front.*' });
  await client.close();
  return messages / seconds;
}

async function controlPlane(env: Record<string, string>, sinkUrl: string, profile = false): Promise<string> {
  const port = await getPort({ host: '127.0.0.1' });
  const cpuProf = profile && process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const { line } = await start(process.execPath, [...cpuProf, join(root, 'control-plane/dist/main.js')], {
    NANOFAAS_PORT: String(port),
    NANOFAAS_MANAGEMENT_PORT: '0',
    NANOFAAS_STATE_DIR: scratchDir('nanofaas-bench-cp-'),
    NANOFAAS_LOG_LEVEL: 'warn',
    NANOFAAS_MAX_LIVE_EXECUTIONS: String(messages * rounds * 2),
    ...env,
  });
  const apiUrl = String(line.apiUrl);
  const reg = await fetch(`${apiUrl}/v1/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sink', endpointUrl: sinkUrl, concurrency: 4, queueSize: 100_000, timeoutMs: 900_000 }),
  });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register sink: ${reg.status} ${await reg.text()}`);
  return apiUrl;
}

async function enqueueRate(apiUrl: string): Promise<{ rps: number; errors: number; p50: number; p99: number }> {
  const cell = await load({
    url: apiUrl,
    path: '/v1/functions/sink:enqueue',
    body: payload,
    concurrency,
    durationS: 600,
    expect: 202,
    maxRequests: messages,
  });
  return summary(cell);
}

const nats = await natsServer();
const sink = await silentEndpoint();
try {
  const natsApi = await controlPlane({ NANOFAAS_NATS_URL: nats.url }, sink.url, true);
  const memoryApi = await controlPlane({}, sink.url);
  const rows: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const raw = await rawPublishRate(nats.url, round);
    const inProcess = await frontRate(nats.url);
    const viaNats = await enqueueRate(natsApi);
    const inMemory = await enqueueRate(memoryApi);
    rows.push(
      `round ${round}: raw acked publishes ${raw.toFixed(0)}/s (window ${windowSize}) | front.enqueue in process ${inProcess.toFixed(0)}/s = ${(inProcess / raw).toFixed(2)} × raw | HTTP NATS-mode enqueue ${viaNats.rps.toFixed(0)}/s ` +
        `(p50 ${viaNats.p50.toFixed(1)} ms, p99 ${viaNats.p99.toFixed(1)} ms, ${viaNats.errors} errors) = ${(viaNats.rps / raw).toFixed(2)} × raw | ` +
        `memory-mode enqueue ${inMemory.rps.toFixed(0)}/s (${inMemory.errors} errors)`,
    );
    console.log(rows.at(-1));
  }
  console.log(
    `${messages} per cell, c=${concurrency}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await stopAll();
  sink.close();
  nats.stop();
  rmSync(nats.dir, { recursive: true, force: true });
}
