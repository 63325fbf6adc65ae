/**
 * npm run bench:nats — NATS mode (docs/design.md §3.12) side by side with the nats-server's own
 * acknowledged-publish rate and with memory mode, in one run, so the ratios hold however busy the
 * (shared) machine is. One nats-server -js (store in a temp dir, random port); every control plane
 * uses the pool backend and functions with an endpointUrl.
 *
 * 1. Accept rate, in BENCH_ROUNDS rounds, each cell BENCH_MESSAGES:
 *    - raw: this process publishes small messages to a scratch work-queue stream with `js.publish`
 *      (@nats-io/jetstream), BENCH_WINDOW awaiting their acks at once (pipelined): acks/s — the
 *      issue's reference, the floor is HTTP NATS-mode enqueue ≥ 0.5 × this;
 *    - raw, window c: js.publish with only BENCH_CONCURRENCY awaiting acks, as deep as the HTTP load;
 *    - raw, lean: the first (window BENCH_WINDOW) through AckPublisher (control-plane/src/nats/ack-publisher.ts, what the
 *      control plane publishes with), reported so the floor is not read against a slow client only;
 *    - front: NatsAsyncFront.enqueue in this process (an enqueue's NATS work, no HTTP);
 *    - HTTP NATS mode: `POST /v1/functions/sink:enqueue` at c=BENCH_CONCURRENCY against a control
 *      plane with NANOFAAS_NATS_URL (each 202 = one stored publish); sink's endpoint accepts
 *      connections and never answers, so the queue only grows;
 *    - HTTP memory mode: the same against a control plane without NATS.
 *    With the CPU time per request of the control plane and of nats-server (schedstat), which a
 *    busy machine disturbs much less than req/s.
 * 2. End-to-end async (enqueue → ended): BENCH_E2E enqueues at c=BENCH_CONCURRENCY to `e2e`, a
 *    function on the fixture runtime (answers at once, concurrency BENCH_E2E_CONCURRENCY), timed
 *    from the first enqueue until every replica's success/error/timeout counters add up to them:
 *    memory mode, NATS mode with 1 replica, NATS mode with 2 replicas (load split over both APIs;
 *    the second replica learns `e2e` from the registry bucket). Per round, in rotating order. For
 *    NATS mode also the stored writes per execution: messages published to the invocation stream
 *    and writes to the execution bucket (from their last sequence numbers; an ack deletes).
 * 3. Sync (`bench:cp` style): `:invoke` of `e2e` at c=BENCH_CONCURRENCY, NATS-mode control plane
 *    vs memory-mode control plane, alternating 1 s slices, BENCH_SYNC_SECONDS each: req/s, p50,
 *    p99, CPU µs per request (NATS mode keeps sync calls in process: no regression expected).
 * Load average before and after. Env: BENCH_MESSAGES (20000), BENCH_WINDOW (256),
 * BENCH_CONCURRENCY (32), BENCH_ROUNDS (2), BENCH_E2E (10000), BENCH_E2E_CONCURRENCY (32),
 * BENCH_SYNC_SECONDS (4), BENCH_WRK_SECONDS (2), BENCH_PARTS (`accept`: part 1 only), BENCH_CP_MAIN (another
 * build's control-plane/dist/main.js, for a before/after run), BENCH_CPU_PROF (a directory: the first NATS-mode control plane runs with
 * --cpu-prof and writes its profile there on exit). Needs nats-server on PATH; it runs with
 * the GOMAXPROCS `up --nats` gives it (half the cores), or GOMAXPROCS from this environment.
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import getPort from 'get-port';
import { AckPublisher } from '../control-plane/src/nats/ack-publisher.js';
import { NatsAsyncFront } from '../control-plane/src/nats/async-front.js';
import { connectNats } from '../control-plane/src/nats/client.js';
import { KvExecutionStore } from '../control-plane/src/nats/execution-kv.js';
import { NatsWorkQueue } from '../control-plane/src/nats/work-queue.js';
import { natsServerEnv } from '../src/targets/local/nats-step.js';
import { type Cell, cpuMicros, emptyCell, load, merge, root, runBench, scratchDir, start, stopAll, summary } from './cp-lib.js';

const messages = Number(process.env.BENCH_MESSAGES ?? '20000');
const windowSize = Number(process.env.BENCH_WINDOW ?? '256');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const rounds = Number(process.env.BENCH_ROUNDS ?? '2');
const e2eCount = Number(process.env.BENCH_E2E ?? '10000');
const e2eConcurrency = Number(process.env.BENCH_E2E_CONCURRENCY ?? '32');
const syncSeconds = Number(process.env.BENCH_SYNC_SECONDS ?? '4');
const payload = JSON.stringify({ input: { text: 'the quick brown fox jumps over the lazy dog' } });
/** `accept`: only part 1 (for iterating on the enqueue path); anything else: all three parts. */
const parts = process.env.BENCH_PARTS ?? 'all';
const WRK = '/usr/bin/wrk';
/** Another build's control-plane/dist/main.js to measure instead of this tree's (a before/after run). */
const cpMain = process.env.BENCH_CP_MAIN || join(root, 'control-plane/dist/main.js');
const wrkSeconds = Number(process.env.BENCH_WRK_SECONDS ?? '2');
/**
 * wrk's functions per round and control plane, so no queue reaches its queueSize (100,000) within
 * wrkSeconds: memory mode accepts up to ~50,000/s here, NATS mode about half. Few in NATS mode: every
 * function there is a consumer with its deliveries stuck on the silent endpoint, which a second
 * replica (the end-to-end cells) pulls from too, at a cost to nats-server that grows with their number.
 */
const wrkSinks = (round: number, mode: 'nats' | 'memory') =>
  Array.from(
    { length: Math.max(1, Math.ceil((wrkSeconds * (mode === 'nats' ? 40_000 : 120_000)) / 100_000)) },
    (_, k) => `sink-wrk-${round}-${k}`,
  );

interface ControlPlane {
  apiUrl: string;
  managementUrl: string;
  pid: number;
}

/** nats-server as `up --nats` starts it (GOMAXPROCS; a GOMAXPROCS in this environment wins). */
const natsEnv = natsServerEnv(process.env);

async function natsServer(): Promise<{ url: string; pid: number; stop: () => void; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nanofaas-bench-nats-'));
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', '-1', '-sd', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...natsEnv },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let found = 0;
    child.once('error', reject);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /Listening for client connections on [^:]+:(\d+)/.exec(line);
      if (m) found = Number(m[1]);
      if (/Server is ready/.test(line)) resolve(found);
    });
  });
  return { url: `nats://127.0.0.1:${port}`, pid: child.pid ?? 0, dir, stop: () => child.kill('SIGTERM') };
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

/** `windowSize` workers, each publishing the next message once its last one was acknowledged. */
async function pipelined(publish: (i: number) => Promise<unknown>, window = windowSize): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < messages) await publish(next++);
    }),
  );
  return messages / ((performance.now() - began) / 1000);
}

/** Acknowledged publishes/s to a scratch work-queue stream: js.publish, or AckPublisher (`lean`). */
async function rawPublishRate(url: string, name: string, lean: boolean, window = windowSize): Promise<number> {
  const client = await connectNats({ url });
  const { RetentionPolicy, StorageType } = client.jetstreamModule;
  await client.jsm.streams.add({ name, subjects: [`bench.${name}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  const body = new TextEncoder().encode(payload);
  const publisher = new AckPublisher(client.nc, client.transportModule.createInbox());
  const noHeaders = client.transportModule.headers();
  const rate = await pipelined(
    (i) => (lean ? publisher.publish(`bench.${name}.${i}`, payload, noHeaders) : client.js.publish(`bench.${name}.${i}`, body)),
    window,
  );
  publisher.close();
  await client.jsm.streams.delete(name);
  await client.close();
  return rate;
}

/** NatsAsyncFront.enqueue in this process (no HTTP), as pipelined as the raw publishes. */
async function frontRate(url: string): Promise<number> {
  const client = await connectNats({ url });
  const queue = await NatsWorkQueue.open(client, { duplicateWindowMs: 120_000 });
  const store = await KvExecutionStore.open(client, { executionTtlMs: 900_000, idempotencyTtlMs: 900_000 });
  const front = new NatsAsyncFront(queue, store);
  const rate = await pipelined(() =>
    front.enqueue({ name: 'bench-front', generation: '' }, payload, { traceId: undefined, idempotencyKey: undefined }),
  );
  await client.jsm.streams.purge('NANOFAAS_INVOCATIONS', { filter: 'nanofaas.inv.bench-front.>' });
  await client.close();
  return rate;
}

/**
 * The same HTTP enqueues driven by wrk (C, one thread, `concurrency` connections, bench/enqueue-202.lua):
 * a load generator that costs far less CPU per request than this Node process, which matters when
 * it, the control plane and nats-server share two cores. Only 202s count as accepted; the script
 * runs BENCH_WRK_SECONDS (wrk counts whole seconds), about as long as a Node HTTP cell of `messages`, on
 * functions of its own per round (wrkSinks), in turn, so no queue reaches its queueSize.
 */
async function wrkEnqueue(
  apiUrl: string,
  fns: string[],
): Promise<{ rps: number; accepted: number; answered: number; other: number; p50: number; p99: number }> {
  const args = [
    '-t1',
    `-c${concurrency}`,
    `-d${wrkSeconds}s`,
    '-s',
    join(root, 'bench/enqueue-202.lua'),
    apiUrl,
    '--',
    payload,
    ...fns.map((fn) => `/v1/functions/${fn}:enqueue`),
  ];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(WRK, args, { timeout: (wrkSeconds + 30) * 1000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const m = /NANOFAAS accepted=(\d+) other=(\d+) errors=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no summary: ${stdout}`);
  const [accepted, other, errors, us, p50, p99] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { rps: accepted / (us / 1e6), accepted, answered: accepted + other, other: other + errors, p50: p50 / 1000, p99: p99 / 1000 };
}

async function controlPlane(env: Record<string, string>, profile = false): Promise<ControlPlane> {
  const dir = process.env.BENCH_CPU_PROF;
  const cpuProf = profile && dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
  const { line } = await start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, ...cpuProf, cpMain], {
    NANOFAAS_PORT: '0',
    NANOFAAS_MANAGEMENT_PORT: '0',
    NANOFAAS_STATE_DIR: scratchDir('nanofaas-bench-cp-'),
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
    NANOFAAS_LOG_LEVEL: 'warn',
    // Room for every cell's executions: wrk's run for a time, so theirs are bounded by 100,000 a second.
    NANOFAAS_MAX_LIVE_EXECUTIONS: String((messages + 100_000 * wrkSeconds + 3 * e2eCount) * rounds * 2),
    ...env,
  });
  return { apiUrl: String(line.apiUrl), managementUrl: String(line.managementUrl), pid: Number(line.pid) };
}

async function register(cp: ControlPlane, spec: Record<string, unknown>): Promise<void> {
  const reg = await fetch(`${cp.apiUrl}/v1/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  if (reg.status !== 201) throw new Error(`register ${String(spec.name)}: ${reg.status} ${await reg.text()}`);
}

/** Runs `work` and returns it with the CPU µs the processes used meanwhile. */
async function measured<T>(pids: number[], work: () => Promise<T>): Promise<{ value: T; cpuUs: number[] }> {
  const before = pids.map(cpuMicros);
  const value = await work();
  return { value, cpuUs: pids.map((p, i) => cpuMicros(p) - before[i]!) };
}

/** success + error + timeout executions of `fn` so far, summed over the replicas' /metrics. */
async function ended(cps: ControlPlane[], fn: string): Promise<number> {
  let n = 0;
  for (const cp of cps) {
    const text = await (await fetch(`${cp.managementUrl}/metrics`)).text();
    for (const name of ['function_success_total', 'function_error_total', 'function_timeout_total']) {
      const m = text.match(new RegExp(`^${name}\\{function="${fn}"\\} (\\d+)`, 'm'));
      if (m) n += Number(m[1]);
    }
  }
  return n;
}

interface E2eResult {
  /** Stream messages and execution-bucket writes stored per execution (NATS mode). */
  publishesPerExecution: number;
  kvWritesPerExecution: number;
  acceptRps: number;
  endedRps: number;
  cpUsPerExecution: number;
  natsUsPerExecution: number;
  errors: number;
}

/** BENCH_E2E enqueues of `e2e` split over the replicas' APIs; timed until all have ended. */
/** Stored writes so far: the last sequence of the invocation stream and of the execution bucket. */
type WriteCounter = () => Promise<{ publishes: number; kvWrites: number }>;

async function endToEnd(cps: ControlPlane[], natsPid: number | undefined, writes?: WriteCounter): Promise<E2eResult> {
  const before = await ended(cps, 'e2e');
  const writesBefore = await writes?.();
  const pids = [...cps.map((c) => c.pid), ...(natsPid ? [natsPid] : [])];
  const { value, cpuUs } = await measured(pids, async () => {
    const began = performance.now();
    const cells = await Promise.all(
      cps.map((cp) =>
        load({
          url: cp.apiUrl,
          path: '/v1/functions/e2e:enqueue',
          body: payload,
          concurrency: Math.ceil(concurrency / cps.length),
          durationS: 600,
          expect: 202,
          maxRequests: Math.ceil(e2eCount / cps.length),
          record: false,
        }),
      ),
    );
    const accepted = cells.reduce((n, c) => n + c.ok, 0);
    const acceptSeconds = (performance.now() - began) / 1000;
    const deadline = performance.now() + 300_000;
    while ((await ended(cps, 'e2e')) < before + accepted) {
      if (performance.now() > deadline) throw new Error('end-to-end: not every execution ended within 300 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - began) / 1000;
    return { accepted, acceptSeconds, seconds, errors: cells.reduce((n, c) => n + c.errors, 0) };
  });
  const cpUs = cpuUs.slice(0, cps.length).reduce((a, b) => a + b, 0);
  const writesAfter = await writes?.();
  return {
    publishesPerExecution: writesAfter && writesBefore ? (writesAfter.publishes - writesBefore.publishes) / value.accepted : Number.NaN,
    kvWritesPerExecution: writesAfter && writesBefore ? (writesAfter.kvWrites - writesBefore.kvWrites) / value.accepted : Number.NaN,
    acceptRps: value.accepted / value.acceptSeconds,
    endedRps: value.accepted / value.seconds,
    cpUsPerExecution: cpUs / value.accepted,
    natsUsPerExecution: natsPid ? cpuUs.at(-1)! / value.accepted : Number.NaN,
    errors: value.errors,
  };
}

/** SIGTERM to one control plane (by its own pid) and wait until it has exited. */
async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`control plane ${pid} did not exit within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function acceptHeader(loadBefore: number[], loadAfter: number[]): string[] {
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  return [
    `bench:nats — linux/${process.arch}, Node ${process.version}, ${messages} per accept cell, c=${concurrency}, window ${windowSize}, ` +
      `nats-server GOMAXPROCS=${natsEnv.GOMAXPROCS}, load average before ${la(loadBefore)}, after ${la(loadAfter)}`,
    '',
    `| round | raw js.publish/s | raw lean/s | raw js.publish, window ${concurrency}/s | front in process/s | HTTP enqueue NATS mode, Node client/s (p50 / p99) | NATS HTTP Node / raw | ` +
      'HTTP enqueue NATS mode, wrk/s (p50 / p99) | NATS HTTP wrk / raw | HTTP enqueue memory mode, Node/s | HTTP enqueue memory mode, wrk/s | ' +
      `CP CPU µs/enqueue NATS / memory, Node | CP CPU µs/enqueue NATS / memory, wrk | nats-server CPU µs/msg raw / raw window ${concurrency} / NATS HTTP Node / wrk | non-202 Node / wrk |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
}

runBench(async () => {
  const loadBefore = loadavg();
  const nats = await natsServer();
  const sink = await silentEndpoint();
  try {
    const fixture = await start(join(root, 'node_modules/.bin/tsx'), ['test/fixtures/fixture-runtime.ts']);
    const fixtureUrl = String(fixture.line.url);
    const natsCp = await controlPlane({ NANOFAAS_NATS_URL: nats.url }, true);
    const memoryCp = await controlPlane({});
    const sinkSpec = { name: 'sink', endpointUrl: sink.url, concurrency: 4, queueSize: 100_000, timeoutMs: 900_000 };
    const e2eSpec = { name: 'e2e', endpointUrl: fixtureUrl, concurrency: e2eConcurrency, queueSize: 100_000 };
    for (const cp of [natsCp, memoryCp]) {
      await register(cp, sinkSpec);
      const mode = cp === natsCp ? 'nats' : 'memory';
      for (let round = 1; round <= rounds; round++) for (const name of wrkSinks(round, mode)) await register(cp, { ...sinkSpec, name });
      await register(cp, e2eSpec);
    }

    // 1. Accept rate.
    const accept: string[] = [];
    const httpEnqueue = (cp: ControlPlane) =>
      measured([cp.pid, nats.pid], async () =>
        summary(
          await load({
            url: cp.apiUrl,
            path: '/v1/functions/sink:enqueue',
            body: payload,
            concurrency,
            durationS: 600,
            expect: 202,
            maxRequests: messages,
          }),
        ),
      );
    // wrk enqueues to a function of its own per round: the Node cells' sink holds rounds × messages.
    const wrkHttpEnqueue = (cp: ControlPlane, round: number) =>
      measured([cp.pid, nats.pid], () => wrkEnqueue(cp.apiUrl, wrkSinks(round, cp === natsCp ? 'nats' : 'memory')));
    const hasWrk = existsSync(WRK);
    // Unreported warm-up: this process's publisher (JIT) reaches its rate only after a cell or two,
    // and an unwarmed first round read the floor against a raw rate 25–40 % too low (BENCHMARKS.md, fourth pass).
    await rawPublishRate(nats.url, 'RAW_WARMUP', false);
    await rawPublishRate(nats.url, 'SHALLOW_WARMUP', false, concurrency);
    for (let round = 1; round <= rounds; round++) {
      const raw = await measured([nats.pid], () => rawPublishRate(nats.url, `RAW_${round}`, false));
      const lean = await rawPublishRate(nats.url, `LEAN_${round}`, true);
      // As deep as the HTTP load: at most `concurrency` publishes awaiting their acks.
      const shallowCell = await measured([nats.pid], () => rawPublishRate(nats.url, `SHALLOW_${round}`, false, concurrency));
      const shallow = shallowCell.value;
      const front = await frontRate(nats.url);
      // The HTTP cells in rotating order, so none always runs on the warmest or the coldest machine.
      const cells = [
        async () => ({ nodeNats: await httpEnqueue(natsCp) }),
        async () => ({ nodeMemory: await httpEnqueue(memoryCp) }),
        ...(hasWrk
          ? [
              async () => ({ wrkNats: await wrkHttpEnqueue(natsCp, round) }),
              async () => ({ wrkMemory: await wrkHttpEnqueue(memoryCp, round) }),
            ]
          : []),
      ];
      let got: {
        nodeNats?: Awaited<ReturnType<typeof httpEnqueue>>;
        nodeMemory?: Awaited<ReturnType<typeof httpEnqueue>>;
        wrkNats?: Awaited<ReturnType<typeof wrkHttpEnqueue>>;
        wrkMemory?: Awaited<ReturnType<typeof wrkHttpEnqueue>>;
      } = {};
      for (let i = 0; i < cells.length; i++) got = { ...got, ...(await cells[(i + round - 1) % cells.length]!()) };
      const viaNats = got.nodeNats!;
      const viaMemory = got.nodeMemory!;
      const n = viaNats.value;
      const m = viaMemory.value;
      const wn = got.wrkNats;
      const wm = got.wrkMemory;
      const natsUsRaw = raw.cpuUs[0]! / messages;
      const perMsg = (cpu: number | undefined, count: number | undefined) => (cpu === undefined || !count ? Number.NaN : cpu / count);
      accept.push(
        `| ${round} | ${f(raw.value)} | ${f(lean)} | ${f(shallow)} | ${f(front)} | **${f(n.rps)}** (${f(n.p50, 1)} / ${f(n.p99, 1)} ms) | **${f(n.rps / raw.value, 2)}** | ` +
          `**${f(wn?.value.rps ?? Number.NaN)}** (${f(wn?.value.p50 ?? Number.NaN, 1)} / ${f(wn?.value.p99 ?? Number.NaN, 1)} ms) | **${f((wn?.value.rps ?? Number.NaN) / raw.value, 2)}** | ` +
          `${f(m.rps)} (${f(m.rps / raw.value, 2)} × raw) | ${f(wm?.value.rps ?? Number.NaN)} (${f((wm?.value.rps ?? Number.NaN) / raw.value, 2)} × raw) | ` +
          `${f(viaNats.cpuUs[0]! / messages)} / ${f(viaMemory.cpuUs[0]! / messages)} | ` +
          `${f(perMsg(wn?.cpuUs[0], wn?.value.answered))} / ${f(perMsg(wm?.cpuUs[0], wm?.value.answered))} | ` +
          `${f(natsUsRaw)} / ${f(shallowCell.cpuUs[0]! / messages)} / ${f(viaNats.cpuUs[1]! / messages)} / ${f(perMsg(wn?.cpuUs[1], wn?.value.answered))} | ` +
          `${n.errors + m.errors} / ${(wn?.value.other ?? 0) + (wm?.value.other ?? 0)} |`,
      );
      console.log(`accept round ${round}: ${accept.at(-1)}`);
    }
    if (parts === 'accept') {
      console.log(`\n${acceptHeader(loadBefore, loadavg()).join('\n')}\n${accept.join('\n')}`);
      return;
    }

    // 2. End-to-end async: memory, NATS × 1, NATS × 2. The second replica runs only for its own
    // cells (it would consume `e2e` in the 1-replica cells too), so it is started and stopped each time.
    const withSecondReplica = async <T>(work: (second: ControlPlane) => Promise<T>): Promise<T> => {
      const second = await controlPlane({ NANOFAAS_NATS_URL: nats.url });
      try {
        const deadline = Date.now() + 10_000;
        while ((await fetch(`${second.apiUrl}/v1/functions/e2e`)).status !== 200) {
          if (Date.now() > deadline) throw new Error('the second replica did not see e2e within 10 s');
          await new Promise((r) => setTimeout(r, 50));
        }
        return await work(second);
      } finally {
        await stopProcess(second.pid);
      }
    };
    const counter = await connectNats({ url: nats.url });
    const writes: WriteCounter = async () => ({
      publishes: (await counter.jsm.streams.info('NANOFAAS_INVOCATIONS')).state.last_seq,
      kvWrites: (await counter.jsm.streams.info('KV_nanofaas_executions')).state.last_seq,
    });
    const setups: [string, () => Promise<E2eResult>][] = [
      ['memory mode', () => endToEnd([memoryCp], undefined)],
      ['NATS mode, 1 replica', () => endToEnd([natsCp], nats.pid, writes)],
      ['NATS mode, 2 replicas', () => withSecondReplica((second) => endToEnd([natsCp, second], nats.pid, writes))],
    ];
    const e2e = new Map<string, E2eResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < setups.length; i++) {
        const [label, run] = setups[(i + round) % setups.length]!;
        const r = await run();
        e2e.set(label, [...(e2e.get(label) ?? []), r]);
        console.log(`e2e round ${round + 1}, ${label}: ended ${f(r.endedRps)}/s, accepted ${f(r.acceptRps)}/s, ${r.errors} errors`);
      }
    }

    await counter.close();

    // 3. Sync, interleaved slices.
    const syncCells: Record<'nats' | 'memory', Cell> = { nats: emptyCell(), memory: emptyCell() };
    const syncCpu = { nats: 0, memory: 0 };
    const syncTargets = { nats: natsCp, memory: memoryCp };
    for (const key of ['nats', 'memory'] as const) {
      await load({ url: syncTargets[key].apiUrl, path: '/v1/functions/e2e:invoke', body: payload, concurrency, durationS: 1 });
    }
    for (let s = 0; s < syncSeconds; s++) {
      for (const key of s % 2 === 0 ? (['nats', 'memory'] as const) : (['memory', 'nats'] as const)) {
        const cell = await measured([syncTargets[key].pid], () =>
          load({ url: syncTargets[key].apiUrl, path: '/v1/functions/e2e:invoke', body: payload, concurrency, durationS: 1 }),
        );
        merge(syncCells[key], cell.value);
        syncCpu[key] += cell.cpuUs[0]!;
      }
    }
    const loadAfter = loadavg();

    const lines = [
      ...acceptHeader(loadBefore, loadAfter),
      ...accept,
      '',
      `End to end (${e2eCount} enqueues at c=${concurrency} → all ended; fixture runtime, concurrency ${e2eConcurrency}):`,
      '',
      '| setup | ended/s per round | accepted/s per round | CP CPU µs/execution (all replicas) | nats-server CPU µs/execution | stored per execution: publishes + KV writes | errors |',
      '|---|---|---|---|---|---|---|',
      ...setups.map(([label]) => {
        const rs = e2e.get(label)!;
        const avg = (g: (r: E2eResult) => number) => rs.reduce((a, r) => a + g(r), 0) / rs.length;
        return `| ${label} | ${rs.map((r) => f(r.endedRps)).join(', ')} | ${rs.map((r) => f(r.acceptRps)).join(', ')} | ${f(avg((r) => r.cpUsPerExecution))} | ${f(avg((r) => r.natsUsPerExecution))} | ${f(
          avg((r) => r.publishesPerExecution),
          2,
        )} + ${f(
          avg((r) => r.kvWritesPerExecution),
          2,
        )} | ${rs.reduce((a, r) => a + r.errors, 0)} |`;
      }),
      '',
      `Sync :invoke (c=${concurrency}, ${syncSeconds} × 1 s interleaved slices each):`,
      '',
      '| control plane | req/s | p50 ms | p99 ms | CPU µs/req | errors |',
      '|---|---|---|---|---|---|',
      ...(['memory', 'nats'] as const).map((key) => {
        const s = summary(syncCells[key]);
        return `| ${key === 'nats' ? 'NATS mode' : 'memory mode'} | ${f(s.rps)} | ${f(s.p50, 2)} | ${f(s.p99, 2)} | ${f(syncCpu[key] / (syncCells[key].ok + syncCells[key].errors))} | ${s.errors} |`;
      }),
      `NATS / memory sync req/s: ${f(summary(syncCells.nats).rps / summary(syncCells.memory).rps, 2)}`,
    ];
    console.log(`\n${lines.join('\n')}`);
  } finally {
    await stopAll();
    sink.close();
    nats.stop();
    rmSync(nats.dir, { recursive: true, force: true });
  }
});
