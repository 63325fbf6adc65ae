/**
 * `npm run bench:docker`: cold start of each runtime as a container, the way the docker workload
 * backend starts one — its own create options (container-spec.ts: host network on a free
 * 127.0.0.1 port, read-only, uid 10001, tmpfs /tmp), through its Engine client — timed from
 * "create" to the first 200 on POST /invoke. Between attempts /invoke is retried every 5 ms
 * (a refused connection until the runtime listens, then its answer). Every container is
 * removed afterwards.
 *
 * Env: BENCH_RUNS (per image, default 3), BENCH_ONLY (substring of the image names),
 * NANOFAAS_DOCKER_SOCKET (default /var/run/docker.sock).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionSpec } from '../control-plane/src/contracts/index.js';
import { containerSpec, ownerLabels } from '../control-plane/src/workloads/docker/container-spec.js';
import { connectEngine } from '../control-plane/src/workloads/docker/engine.js';
import { freePort } from '../control-plane/src/workloads/process/free-port.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY ?? '';
const OWNER = `bench-${process.pid}`;
const engine = connectEngine(process.env.NANOFAAS_DOCKER_SOCKET ?? '/var/run/docker.sock');

const IMAGES: { runtime: string; image: string; runtimeMode: FunctionSpec['runtimeMode'] }[] = [
  { runtime: 'node', image: 'nanofaas/word-stats-node:0.1.0', runtimeMode: 'HTTP' },
  { runtime: 'python', image: 'nanofaas/word-stats-python:0.1.0', runtimeMode: 'HTTP' },
  { runtime: 'java', image: 'nanofaas/word-stats-java:0.1.0', runtimeMode: 'HTTP' },
  { runtime: 'exec', image: 'nanofaas/word-stats-exec:0.1.0', runtimeMode: 'STDIO' },
];
const BODY = JSON.stringify({ input: { text: 'the quick brown fox jumps over the lazy dog', topN: 3 } });
const GIVE_UP_MS = 120_000;

interface Run {
  createMs: number;
  startMs: number;
  firstAnswerMs: number;
}

async function firstAnswer(url: string, from: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${url}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      const text = await res.text();
      if (res.status === 200) return;
      if (res.status !== 503) throw new Error(`/invoke answered ${res.status}: ${text}`);
    } catch (err) {
      if ((err as Error).message.startsWith('/invoke answered')) throw err;
    }
    if (performance.now() - from > GIVE_UP_MS) throw new Error(`no 200 from ${url}/invoke within ${GIVE_UP_MS} ms`);
    await sleep(5);
  }
}

async function once(entry: (typeof IMAGES)[number], attempt: number): Promise<Run> {
  const port = await freePort();
  const spec: FunctionSpec = {
    name: `cold-${entry.runtime}`,
    image: entry.image,
    timeoutMs: 30_000,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 0,
    runtimeMode: entry.runtimeMode,
    executionMode: 'DEPLOYMENT',
    replicas: 1,
  };
  const options = containerSpec(spec, { owner: OWNER, index: attempt, port, user: '10001:10001' });
  const t0 = performance.now();
  const id = await engine.create(options);
  const created = performance.now();
  try {
    await engine.start(id);
    const started = performance.now();
    await firstAnswer(`http://127.0.0.1:${port}`, t0);
    const answered = performance.now();
    return { createMs: created - t0, startMs: started - created, firstAnswerMs: answered - t0 };
  } finally {
    await engine.remove(id);
  }
}

const fmt = (ms: number) => `${Math.round(ms)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  await engine.ping(3_000);
  const rows: string[] = [];
  try {
    for (const entry of IMAGES.filter((i) => i.image.includes(ONLY))) {
      if (!(await engine.hasImage(entry.image))) throw new Error(`image ${entry.image} is missing: run \`npm run images:build\``);
      const runs: Run[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await once(entry, i));
      const all = runs.map((r) => fmt(r.firstAnswerMs)).join(' / ');
      rows.push(
        `| ${entry.runtime} | \`${entry.image}\` | ${all} | ${fmt(median(runs.map((r) => r.firstAnswerMs)))} | ${fmt(median(runs.map((r) => r.createMs)))} | ${fmt(median(runs.map((r) => r.startMs)))} |`,
      );
      console.error(`${entry.runtime}: ${all} ms`);
    }
  } finally {
    // Whatever an interrupted run left.
    for (const id of await engine.list(ownerLabels(OWNER))) await engine.remove(id);
  }
  console.log('| runtime | image | create → first 200 on /invoke, each run (ms) | median (ms) | create (ms) | start (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((err: unknown) => {
  console.error(`bench:docker: ${(err as Error).message}`);
  process.exitCode = 1;
});
