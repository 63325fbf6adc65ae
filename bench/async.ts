/**
 * npm run bench:async — the async (memory-mode) queue of the control plane, in one bounded run:
 *  1. admission: 100,000 `POST /v1/functions/sink:enqueue` at c=32 against a function that never
 *     answers (an endpoint that accepts connections and stays silent), so every execution stays
 *     queued: req/s of the 202s, and the control plane's RSS before and after (the cost of
 *     100,000 queued executions);
 *  2. completion vs. sync against word-stats-node on the process backend (callbacks on, as
 *     `nanofaas up` runs it), in alternating rounds: sync invokes at c=32 for BENCH_SECONDS, then
 *     as many enqueues as the sync phase answered, timed from the first enqueue until the last
 *     execution has ended (success + error counters on the management port). Their ratio is the
 *     async completion rate over the sync rate. The enqueue rate while the function drains is
 *     reported too.
 * The load generator is this process (undici, 32 keep-alive connections, no promise per request
 * in the transport); the control plane and the runtime are separate processes.
 * The control plane runs with NANOFAAS_MAX_LIVE_EXECUTIONS raised above BENCH_ENQUEUES (its
 * default, 10,000, is the guard this memory mode is sized against).
 * Env: BENCH_ENQUEUES (default 100000), BENCH_SECONDS (sync phase per round, default 3),
 * BENCH_ROUNDS (default 2), BENCH_CONCURRENCY (default 32), BENCH_CP_BASELINE (another build's
 * control-plane/dist/main.js: both builds are measured in alternating rounds, side by side).
 * Floors (issue 13): admission ≥ 20,000 req/s; 100,000 queued ≤ +200 MB RSS; completion ≥ 0.8 × sync.
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { $ } from 'zx';
import { load, root, runBench, scratchDir, start, stopAll, summary } from './cp-lib.js';

const enqueues = Number(process.env.BENCH_ENQUEUES ?? '100000');
const seconds = Number(process.env.BENCH_SECONDS ?? '3');
const rounds = Number(process.env.BENCH_ROUNDS ?? '2');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const payload = JSON.stringify({ input: { text: 'the quick brown fox jumps over the lazy dog and the cat' } });
const cpMain = join(root, 'control-plane/dist/main.js');
const baseline = process.env.BENCH_CP_BASELINE;

const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) / 1024 : Number.NaN;
};

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function startControlPlane(stateDir: string, main = cpMain): Promise<{ apiUrl: string; managementUrl: string; pid: number }> {
  const [port, managementPort] = [await getPort(), await getPort()];
  const cp = await start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, main], {
    NANOFAAS_PORT: String(port),
    NANOFAAS_MANAGEMENT_PORT: String(managementPort),
    NANOFAAS_STATE_DIR: stateDir,
    NANOFAAS_ROOT_DIR: root,
    NANOFAAS_WORKLOAD_BACKEND: 'process',
    // The default cap (10,000 live executions) would refuse the rest of the 100,000.
    // Room for the measured executions and wrk's (at most queueSize = 100,000 on its own function).
    NANOFAAS_MAX_LIVE_EXECUTIONS: String(enqueues + 150_000),
  });
  return { apiUrl: String(cp.line.apiUrl), managementUrl: String(cp.line.managementUrl), pid: Number(cp.line.pid) };
}

/** success + error + timeout executions of `fn` so far, from the management port's /metrics. */
async function ended(managementUrl: string, fn: string): Promise<number> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  let n = 0;
  for (const name of ['function_success_total', 'function_error_total', 'function_timeout_total']) {
    const m = text.match(new RegExp(`^${name}\\{function="${fn}"\\} (\\d+)`, 'm'));
    if (m) n += Number(m[1]);
  }
  return n;
}

const WRK = '/usr/bin/wrk';

/**
 * The same admission measured with wrk (C, one thread, 32 connections) when it is installed: a
 * client that costs far less CPU than this Node process, which matters when client and control
 * plane share two cores. Runs for a fixed time, so it is measured on a function of its own.
 */
async function wrkAdmission(apiUrl: string, fn: string, durationS: number): Promise<{ rps: number; non2xx: number } | undefined> {
  if (!existsSync(WRK)) return undefined;
  const script = join(mkdtempSync(join(tmpdir(), 'nanofaas-wrk-')), 'enqueue.lua');
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(payload)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const out = await $({
    nothrow: true,
    quiet: true,
  })`${WRK} -t1 -c${concurrency} -d${durationS}s -s ${script} ${apiUrl}/v1/functions/${fn}:enqueue`;
  const total = Number(out.stdout.match(/(\d+) requests in ([\d.]+)s/)?.[1] ?? Number.NaN);
  const secs = Number(out.stdout.match(/requests in ([\d.]+)s/)?.[1] ?? Number.NaN);
  const non2xx = Number(out.stdout.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { rps: (total - non2xx) / secs, non2xx };
}

async function admission(stateDir: string, main = cpMain) {
  // Accepts connections and never answers: every dispatched attempt hangs until its timeout.
  const held = new Set<Socket>();
  const silent = createServer((s) => {
    held.add(s);
    s.on('close', () => held.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const cp = await startControlPlane(stateDir, main);
  try {
    const spec = { endpointUrl: silentUrl, concurrency: 1, queueSize: 100_000, timeoutMs: 900_000, maxRetries: 0 };
    for (const name of ['warm', 'sink', 'sink-wrk']) {
      const r = await api(cp.apiUrl, 'POST', '/v1/functions', { name, ...spec });
      if (r.status !== 201) throw new Error(`register ${name}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    // Warm-up (JIT, connections) on another function, so `sink` holds exactly the measured executions.
    await load({
      url: cp.apiUrl,
      path: '/v1/functions/warm:enqueue',
      body: payload,
      concurrency,
      durationS: 30,
      maxRequests: 5_000,
      expect: 202,
      record: false,
    });
    await api(cp.apiUrl, 'DELETE', '/v1/functions/warm');
    const rssBefore = rssMb(cp.pid);
    const cell = await load({
      url: cp.apiUrl,
      path: '/v1/functions/sink:enqueue',
      body: payload,
      concurrency,
      durationS: 120,
      maxRequests: enqueues,
      expect: 202,
    });
    const rssAfter = rssMb(cp.pid);
    const s = summary(cell);
    // 2 s: wrk must not fill sink-wrk's queue (100,000) before it ends, or it measures 429s.
    const wrk = await wrkAdmission(cp.apiUrl, 'sink-wrk', 2);
    return { accepted: cell.ok, errors: cell.errors, rps: s.rps, p50: s.p50, p99: s.p99, rssBefore, rssAfter, wrk };
  } finally {
    await stopAll();
    for (const s of held) s.destroy();
    silent.close();
  }
}

async function completion(stateDir: string, main = cpMain) {
  const cp = await startControlPlane(stateDir, main);
  const fn = 'word-stats-node';
  try {
    const r = await api(cp.apiUrl, 'POST', '/v1/functions', {
      name: fn,
      runtime: 'node',
      handler: 'functions/word-stats/node/dist/handler.js',
      concurrency,
      queueSize: 100_000,
      timeoutMs: 30_000,
    });
    if (r.status !== 201) throw new Error(`register ${fn}: ${r.status} ${JSON.stringify(r.json)}`);
    const ready = await api(cp.apiUrl, 'GET', `/v1/functions/${fn}?waitMs=30000`);
    const state = (ready.json as { status?: { state?: string } }).status?.state;
    if (state !== 'READY') throw new Error(`${fn} is ${state}: ${JSON.stringify(ready.json)}`);
    const invoke = { url: cp.apiUrl, path: `/v1/functions/${fn}:invoke`, body: payload, concurrency };
    const enqueue = { url: cp.apiUrl, path: `/v1/functions/${fn}:enqueue`, body: payload, concurrency, expect: 202, record: false };
    await load({ ...invoke, durationS: 1 });
    await load({ ...enqueue, durationS: 1 });
    // The warm-up's queue drains before the first round.
    for (;;) {
      const text = await (await fetch(`${cp.managementUrl}/metrics`)).text();
      const depth = text.match(new RegExp(`^function_queue_depth\\{function="${fn}"\\} (\\d+)`, 'm'));
      const inFlight = text.match(new RegExp(`^function_in_flight\\{function="${fn}"\\} (\\d+)`, 'm'));
      if (Number(depth?.[1] ?? 0) + Number(inFlight?.[1] ?? 0) === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const out: { syncRps: number; syncErrors: number; n: number; enqueueRps: number; completionRps: number; asyncErrors: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const sync = await load({ ...invoke, durationS: seconds, record: false });
      const n = sync.ok;
      const endedBefore = await ended(cp.managementUrl, fn);
      const t0 = performance.now();
      const admitted = await load({ ...enqueue, durationS: 120, maxRequests: n });
      let last = endedBefore;
      while ((last = await ended(cp.managementUrl, fn)) < endedBefore + admitted.ok) {
        await new Promise((res) => setTimeout(res, 20));
      }
      const elapsed = (performance.now() - t0) / 1000;
      out.push({
        syncRps: sync.ok / sync.seconds,
        syncErrors: sync.errors,
        n: admitted.ok,
        enqueueRps: admitted.ok / admitted.seconds,
        completionRps: (last - endedBefore) / elapsed,
        asyncErrors: admitted.errors,
      });
    }
    const failures = await (async () => {
      const text = await (await fetch(`${cp.managementUrl}/metrics`)).text();
      const m = text.match(new RegExp(`^function_error_total\\{function="${fn}"\\} (\\d+)`, 'm'));
      return Number(m?.[1] ?? 0);
    })();
    return { rounds: out, failures };
  } finally {
    await stopAll();
  }
}

type Admission = Awaited<ReturnType<typeof admission>>;
type Completion = Awaited<ReturnType<typeof completion>>;

function table(a: Admission[], c: Completion): string[] {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const rounds = c.rounds;
  const sync = rounds.reduce((s, r) => s + r.syncRps, 0) / rounds.length;
  const done = rounds.reduce((s, r) => s + r.completionRps, 0) / rounds.length;
  return [
    ...a.flatMap((x, i) => {
      const delta = x.rssAfter - x.rssBefore;
      const tag = a.length > 1 ? ` (round ${i + 1})` : '';
      return [
        `| :enqueue admission${tag}, c=${concurrency}, silent function (${x.accepted} accepted, ${x.errors} refused) | ${f(x.rps)} req/s (p50 ${f(x.p50, 2)} ms, p99 ${f(x.p99, 2)} ms) | ≥ 20,000 req/s |`,
        ...(x.wrk
          ? [
              `| :enqueue admission${tag}, c=${concurrency}, measured with wrk -t1 for 2 s (${x.wrk.non2xx} non-2xx) | ${f(x.wrk.rps)} req/s | ≥ 20,000 req/s |`,
            ]
          : []),
        `| RSS with ${x.accepted} executions queued${tag} | ${f(x.rssBefore)} → ${f(x.rssAfter)} MB (+${f(delta)} MB, ${f((delta * 1024 * 1024) / x.accepted)} B each) | ≤ +200 MB |`,
      ];
    }),
    ...rounds.map(
      (r, i) =>
        `| round ${i + 1}: word-stats-node sync c=${concurrency} / async completion (${r.n} enqueued at ${f(r.enqueueRps)} req/s while draining) | ${f(r.syncRps)} / ${f(r.completionRps)} req/s = ${f(r.completionRps / r.syncRps, 2)} | ≥ 0.8 |`,
    ),
    `| completion ÷ sync, mean of ${rounds.length} rounds | ${f(done / sync, 2)} | ≥ 0.8 |`,
    `| failed executions / sync errors / enqueue refusals | ${c.failures} / ${rounds.reduce((s, r) => s + r.syncErrors, 0)} / ${rounds.reduce((s, r) => s + r.asyncErrors, 0)} | 0 |`,
  ];
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  // A new scratch dir per control plane: each phase's stopAll() removes the ones made before it.
  const dir = () => scratchDir('nanofaas-async-');
  try {
    const header = ['| measure | value | floor |', '|---|---|---|'];
    if (baseline) {
      // Alternating rounds, so both builds see the same machine.
      const before: Admission[] = [];
      const after: Admission[] = [];
      for (let r = 0; r < rounds; r++) {
        before.push(await admission(dir(), baseline));
        after.push(await admission(dir()));
      }
      const cBefore = await completion(dir(), baseline);
      const cAfter = await completion(dir());
      console.log([`baseline build ${baseline}:`, '', ...header, ...table(before, cBefore)].join('\n'));
      console.log(['', 'this build:', '', ...header, ...table(after, cAfter)].join('\n'));
    } else {
      const a = await admission(dir());
      const c = await completion(dir());
      console.log([...header, ...table([a], c)].join('\n'));
    }
    console.log(
      `\nload average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; Node ${process.version}; ${new Date().toISOString()}`,
    );
  } finally {
    await stopAll();
  }
}

runBench(main);
