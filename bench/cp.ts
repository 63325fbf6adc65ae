/**
 * npm run bench:cp — sync invoke through the control plane vs. the same fixture runtime called
 * directly and vs. a bare node:http + undici forwarding hop, at c=1 and c=32, in one run.
 * The three targets are measured interleaved: short slices, summed per target, so a burst of load
 * from elsewhere on a shared machine hits all three alike and the ratios stay meaningful. The slice
 * orders are balanced for carry-over (cp-lib balancedOrders: each target follows each other one
 * equally often), with a short pause before each slice. Each target's slices run on one set of keep-alive connections (opened in its warm-up),
 * as a gateway's clients would, so no slice pays for 32 connection set-ups. Prints req/s, p50, p99 and the ratios, and writes the table into BENCHMARKS.md
 * between the bench:cp markers (BENCH_WRITE=0: print only). Everything runs on 127.0.0.1; the
 * processes are stopped at the end of each start.
 * Env: BENCH_SECONDS (measured seconds per target at c=32, default 48, rounded up so that each
 * start runs whole passes over the balanced orders: 6 with three targets), BENCH_STARTS (see below), BENCH_C1_SECONDS (the same at c=1, default 12:
 * its floor is a latency, steady from run to run), BENCH_SLICE_SECONDS (default 1),
 * BENCH_WARMUP_SECONDS (default 1), BENCH_SETTLE_MS (the pause before each slice, default 250),
 * BENCH_SLICES=1 (print each round's req/s per target to stderr), BENCH_CP_BASELINE (path to
 * another build's control-plane/dist/main.js: measured as a fourth target in the same interleaved
 * run, for a before/after comparison under the same load; the same build's path measures the
 * bench's own noise).
 * Why 48 s at c=32: one slice's cp ÷ hop varies by ±10 % on this 2-core machine (so does the
 * fixture's own rate: three processes share two cores). The table prints each run's 95 %
 * confidence interval from its slices: ±0.056 with 12 slices, ±0.021–0.025 with 48.
 * Why several starts (BENCH_STARTS, default 4; c=32 only): runs of one start differed by more than
 * that interval (0.890–0.931 in five 48 s runs, BENCHMARKS.md, sixth pass): each start of the
 * processes has its own luck. The c=32 slices are shared by fresh starts of all the processes, and
 * the table prints each start's cp ÷ hop beside the whole run's. Each start first fills the control
 * plane's record store to its cap (NANOFAAS_EXECUTION_MAX_RECORDS, 100,000 calls at c=32, ~5 s),
 * so every start measures the steady state of a control plane that has been running a while.
 */
import { loadConfig } from '../control-plane/src/config.js';
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'undici';
import {
  balancedOrders,
  type Cell,
  cpuMicros,
  emptyCell,
  load,
  loadPool,
  meanCI,
  merge,
  root,
  runBench,
  scratchDir,
  start,
  stopAll,
  summary,
} from './cp-lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? '48');
const c1Seconds = Number(process.env.BENCH_C1_SECONDS ?? '12');
const starts = Number(process.env.BENCH_STARTS ?? '4');
/** The control plane's cap on finished executions kept (its own default unless NANOFAAS_EXECUTION_MAX_RECORDS is set). */
const recordCap = loadConfig(process.env).executionMaxRecords;
const sliceSeconds = Number(process.env.BENCH_SLICE_SECONDS ?? '1');
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? '1');
const settleMs = Number(process.env.BENCH_SETTLE_MS ?? '250');
const write = process.env.BENCH_WRITE !== '0';
const payload = JSON.stringify({ input: { text: 'hello world test' } });

const baseline = process.env.BENCH_CP_BASELINE;
type Key = 'direct' | 'hop' | 'base' | 'cp';
const KEYS: Key[] = baseline ? ['direct', 'hop', 'base', 'cp'] : ['direct', 'hop', 'cp'];

/** One start of the processes under test: the fixture, the hop and the control plane(s), registered and ready. */
interface Launch {
  targets: Record<Key, { url: string; path: string }>;
  /** The server in the path whose CPU is counted (the fixture's is the same in all three). */
  pids: Record<Key, number>;
}

async function launch(cpMain: string, cpNodeFlags: string[]): Promise<Launch> {
  const tsx = join(root, 'node_modules/.bin/tsx');
  const fixture = await start(tsx, ['test/fixtures/fixture-runtime.ts']);
  const fixtureUrl = String(fixture.line.url);
  const hop = await start(tsx, ['bench/cp-hop.ts', fixtureUrl]);
  const hopUrl = `http://127.0.0.1:${String(hop.line.port)}`;
  const controlPlane = (main: string, flags: string[]) =>
    start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, ...flags, main], {
      NANOFAAS_PORT: '0',
      NANOFAAS_STATE_DIR: scratchDir('nanofaas-bench-'),
      NANOFAAS_WORKLOAD_BACKEND: 'pool',
    });
  const cp = await controlPlane(cpMain, cpNodeFlags);
  const base = baseline ? await controlPlane(baseline, []) : undefined;
  const cpUrl = String(cp.line.apiUrl);
  const baseUrl = base ? String(base.line.apiUrl) : '';
  for (const url of base ? [cpUrl, baseUrl] : [cpUrl]) {
    const registered = await fetch(`${url}/v1/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', endpointUrl: fixtureUrl, concurrency: 64, queueSize: 1000 }),
    });
    if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
    // A control plane that has run a while keeps as many finished executions as it may: measured
    // from a fresh start, the first ~100,000 calls would run against a store still filling up.
    const filled = await load({
      url,
      path: '/v1/functions/bench:invoke',
      body: payload,
      concurrency: 32,
      durationS: 120,
      maxRequests: recordCap,
      record: false,
    });
    if (filled.ok < recordCap)
      throw new Error(`filling the record store: ${filled.ok} of ${recordCap} calls answered, ${filled.errors} errors`);
  }
  return {
    targets: {
      direct: { url: fixtureUrl, path: '/invoke' },
      hop: { url: hopUrl, path: '/invoke' },
      base: { url: baseUrl, path: '/v1/functions/bench:invoke' },
      cp: { url: cpUrl, path: '/v1/functions/bench:invoke' },
    },
    pids: { direct: 0, hop: Number(hop.line.pid), base: Number(base?.line.pid ?? 0), cp: Number(cp.line.pid) },
  };
}

async function main(): Promise<void> {
  const cpMain = join(root, 'control-plane/dist/main.js');
  // More node flags for this build's control plane only (after CONTROL_PLANE_NODE_FLAGS, which every control plane here gets), to try a V8 setting side by side.
  const cpNodeFlags = (process.env.BENCH_CP_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  if (!Number.isInteger(starts) || starts < 1) throw new Error(`BENCH_STARTS must be a whole number ≥ 1, got ${process.env.BENCH_STARTS}`);
  const loadBefore = loadavg()[0]!;
  try {
    const orders = balancedOrders(KEYS);
    // Whole passes over the balanced orders, at least `s` seconds of slices per target in all, shared by `n` starts.
    const roundsPerStart = (s: number, n: number) =>
      Math.ceil(Math.max(1, Math.round(s / sliceSeconds)) / (orders.length * n)) * orders.length;
    const rows: {
      c: number;
      starts: number;
      rounds: number;
      cells: Partial<Record<Key, ReturnType<typeof summary>>>;
      roundRatios: number[];
      startRatios: number[];
      cpuPerRequest: Record<Key, number>;
    }[] = [];
    for (const c of [1, 32]) {
      // c=1's floor is a latency, steady from start to start: one start does.
      const phaseStarts = c === 1 ? 1 : starts;
      const rounds = roundsPerStart(c === 1 ? c1Seconds : seconds, phaseStarts);
      const zero = () => ({ us: 0, requests: 0 });
      const cpu: Record<Key, { us: number; requests: number }> = { direct: zero(), hop: zero(), base: zero(), cp: zero() };
      const totals: Record<Key, Cell> = { direct: emptyCell(), hop: emptyCell(), base: emptyCell(), cp: emptyCell() };
      const roundRatios: number[] = [];
      const startRatios: number[] = [];
      for (let n = 0; n < phaseStarts; n++) {
        const { targets, pids } = await launch(cpMain, cpNodeFlags);
        // One set of keep-alive connections per target, reused by its slices.
        const pools: Partial<Record<Key, Pool>> = {};
        const run = async (key: Key, durationS: number, count = false) => {
          const before = pids[key] ? cpuMicros(pids[key]) : Number.NaN;
          const pool = (pools[key] ??= loadPool(targets[key].url, c));
          const cell = await load({ ...targets[key], body: payload, concurrency: c, durationS, pool });
          if (count && pids[key]) {
            cpu[key].us += cpuMicros(pids[key]) - before;
            cpu[key].requests += cell.ok + cell.errors;
          }
          return cell;
        };
        for (const key of KEYS) await run(key, warmupSeconds);
        const thisStart: Record<Key, Cell> = { direct: emptyCell(), hop: emptyCell(), base: emptyCell(), cp: emptyCell() };
        for (let r = 0; r < rounds; r++) {
          const slice: Partial<Record<Key, Cell>> = {};
          for (const key of orders[r % orders.length]!) {
            // A pause between slices: what the last one deferred (GC, timers) runs outside both.
            await sleep(settleMs);
            slice[key] = await run(key, sliceSeconds, true);
          }
          for (const key of KEYS) merge(thisStart[key], slice[key]!);
          roundRatios.push(summary(slice.cp!).rps / summary(slice.hop!).rps);
          if (process.env.BENCH_SLICES === '1')
            console.error(
              `c=${c} start ${n + 1} round ${r}: ${orders[r % orders.length]!.join(',')} ${KEYS.map((k) => `${k}=${summary(slice[k]!).rps.toFixed(0)}`).join(' ')}`,
            );
        }
        for (const key of KEYS) merge(totals[key], thisStart[key]);
        startRatios.push(summary(thisStart.cp).rps / summary(thisStart.hop).rps);
        await Promise.all(Object.values(pools).map((p) => p.close()));
        await stopAll();
      }
      rows.push({
        c,
        starts: phaseStarts,
        rounds,
        cells: Object.fromEntries(KEYS.map((k) => [k, summary(totals[k])])),
        roundRatios,
        startRatios,
        cpuPerRequest: Object.fromEntries(KEYS.map((k) => [k, cpu[k].us / cpu[k].requests])) as Record<Key, number>,
      });
    }
    const loadAfter = loadavg()[0]!;

    const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const name: Record<Key, string> = {
      direct: 'fixture runtime direct',
      hop: 'bare hop (node:http + undici)',
      base: 'control plane, baseline build (pool path)',
      cp: 'control plane (pool path)',
    };
    const lines = [
      '| c | target | req/s | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      ...rows.flatMap((r) =>
        KEYS.map((k) => {
          const cell = r.cells[k]!;
          return `| ${r.c} | ${name[k]} | ${f(cell.rps)} | ${f(cell.p50, 3)} | ${f(cell.p99, 3)} | ${cell.errors} |`;
        }),
      ),
      '',
      '| c | cp / hop (req/s) | per start | per-slice cp / hop (min–max) | per-slice mean ± 95 % CI | cp / direct (req/s) | added p50 vs direct (ms) | added p50 vs hop (ms) | server CPU µs/req: hop / cp |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const { cp, hop, direct } = r.cells as Record<Key, ReturnType<typeof summary>>;
        const perReq = `${f(r.cpuPerRequest.hop)} / ${f(r.cpuPerRequest.cp)}`;
        const ci = meanCI(r.roundRatios);
        const perStart = r.startRatios.map((x) => f(x, 3)).join(', ');
        return `| ${r.c} | ${f(cp.rps / hop.rps, 3)} | ${perStart} | ${f(Math.min(...r.roundRatios), 2)}–${f(Math.max(...r.roundRatios), 2)} | ${f(ci.mean, 3)} ± ${f(ci.half, 3)} | ${f(cp.rps / direct.rps, 2)} | ${f(cp.p50 - direct.p50, 3)} | ${f(cp.p50 - hop.p50, 3)} | ${perReq} |`;
      }),
    ];
    if (baseline) {
      lines.push(
        '',
        `Baseline build: \`${baseline}\`, measured in the same interleaved slices.`,
        '',
        '| c | baseline / hop (req/s) | cp / hop (req/s) | cp / baseline (req/s) | server CPU µs/req: baseline / cp |',
        '|---|---|---|---|---|',
        ...rows.map((r) => {
          const { cp, hop, base: b } = r.cells as Record<Key, ReturnType<typeof summary>>;
          return `| ${r.c} | ${f(b.rps / hop.rps, 2)} | ${f(cp.rps / hop.rps, 2)} | ${f(cp.rps / b.rps, 2)} | ${f(r.cpuPerRequest.base)} / ${f(r.cpuPerRequest.cp)} |`;
        }),
      );
    }
    const table = lines.join('\n');
    const conditions = `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`;
    console.log(table);
    console.log(`\n${conditions}`);

    if (!write || baseline) return;
    const [c1, c32] = rows as [(typeof rows)[number], (typeof rows)[number]];
    const section = [
      '<!-- bench:cp:start -->',
      '## Control plane overhead (`npm run bench:cp`)',
      '',
      `Command: \`npm run bench:cp\` (BENCH_SECONDS=${seconds} measured per target at c=32 over BENCH_STARTS=${starts} starts of the processes, and BENCH_C1_SECONDS=${c1Seconds} at c=1 in one start; ${c32.starts} × ${c32.rounds} (c=32) and ${c1.rounds} (c=1) interleaved slices of ${sliceSeconds} s (orders balanced for carry-over, ${settleMs} ms pause before each); ` +
        `each start first fills the control plane's record store (${recordCap} calls), then warms up ${warmupSeconds} s per target; closed loop; payload \`${payload}\`), run ${new Date().toISOString()} ` +
        `on ${process.platform}/${process.arch}, Node ${process.version}, ${conditions}.`,
      'Floors: control plane ≥ 0.9 × bare hop at c=32; added p50 ≤ 0.2 ms at c=1; no errors.',
      '',
      table,
      '<!-- bench:cp:end -->',
    ].join('\n');
    const file = join(root, 'BENCHMARKS.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const pattern = /<!-- bench:cp:start -->[\s\S]*?<!-- bench:cp:end -->/;
    const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    console.log(`\nwritten to ${file}`);
  } finally {
    await stopAll();
  }
}

runBench(main);
