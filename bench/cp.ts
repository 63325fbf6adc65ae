/**
 * npm run bench:cp — sync invoke through the control plane vs. the same fixture runtime called
 * directly and vs. a bare node:http + undici forwarding hop, at c=1 and c=32, in one run.
 * The three targets are measured interleaved: short slices, summed per target, so a burst of load
 * from elsewhere on a shared machine hits all three alike and the ratios stay meaningful. The slice
 * orders are balanced for carry-over (cp-lib balancedOrders: each target follows each other one
 * equally often), with a short pause before each slice. Each target's slices run on one set of keep-alive connections (opened in its warm-up),
 * as a gateway's clients would, so no slice pays for 32 connection set-ups. Prints req/s, p50, p99 and the ratios, and writes the table into BENCHMARKS.md
 * between the bench:cp markers (BENCH_WRITE=0: print only). Everything runs on 127.0.0.1; each
 * process is stopped at the end.
 * Env: BENCH_SECONDS (measured seconds per target at c=32, default 48, rounded up to whole passes
 * over the balanced orders: 6 with three targets), BENCH_C1_SECONDS (the same at c=1, default 12:
 * its floor is a latency, steady from run to run), BENCH_SLICE_SECONDS (default 1),
 * BENCH_WARMUP_SECONDS (default 1), BENCH_SETTLE_MS (the pause before each slice, default 250),
 * BENCH_SLICES=1 (print each round's req/s per target to stderr), BENCH_CP_BASELINE (path to
 * another build's control-plane/dist/main.js: measured as a fourth target in the same interleaved
 * run, for a before/after comparison under the same load; the same build's path measures the
 * bench's own noise).
 * Why 48 s at c=32: one slice's cp ÷ hop varies by ±10 % on this 2-core machine (so does the
 * fixture's own rate: three processes share two cores). The table prints each run's 95 %
 * confidence interval from its slices: ±0.056 with 12 slices, ±0.021–0.025 with 48. Runs still
 * differ by more than that (0.890–0.931 in five 48 s runs): each start of the processes has its own
 * luck too, which only more runs average out (BENCHMARKS.md, sixth pass).
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const sliceSeconds = Number(process.env.BENCH_SLICE_SECONDS ?? '1');
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? '1');
const settleMs = Number(process.env.BENCH_SETTLE_MS ?? '250');
const write = process.env.BENCH_WRITE !== '0';
const payload = JSON.stringify({ input: { text: 'hello world test' } });

const baseline = process.env.BENCH_CP_BASELINE;
type Key = 'direct' | 'hop' | 'base' | 'cp';
const KEYS: Key[] = baseline ? ['direct', 'hop', 'base', 'cp'] : ['direct', 'hop', 'cp'];

async function main(): Promise<void> {
  const cpMain = join(root, 'control-plane/dist/main.js');
  // More node flags for this build's control plane only (after CONTROL_PLANE_NODE_FLAGS, which every control plane here gets), to try a V8 setting side by side.
  const cpNodeFlags = (process.env.BENCH_CP_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  const tsx = join(root, 'node_modules/.bin/tsx');
  const stateDir = scratchDir('nanofaas-bench-');
  const loadBefore = loadavg()[0]!;
  try {
    const fixture = await start(tsx, ['test/fixtures/fixture-runtime.ts']);
    const fixtureUrl = String(fixture.line.url);
    const hop = await start(tsx, ['bench/cp-hop.ts', fixtureUrl]);
    const hopUrl = `http://127.0.0.1:${String(hop.line.port)}`;
    const cp = await start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, ...cpNodeFlags, cpMain], {
      NANOFAAS_PORT: '0',
      NANOFAAS_STATE_DIR: stateDir,
      NANOFAAS_WORKLOAD_BACKEND: 'pool',
    });
    const base = baseline
      ? await start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, baseline], {
          NANOFAAS_PORT: '0',
          NANOFAAS_STATE_DIR: mkdtempSync(join(stateDir, 'base-')),
          NANOFAAS_WORKLOAD_BACKEND: 'pool',
        })
      : undefined;
    const cpUrl = String(cp.line.apiUrl);
    const baseUrl = base ? String(base.line.apiUrl) : '';
    for (const url of base ? [cpUrl, baseUrl] : [cpUrl]) {
      const registered = await fetch(`${url}/v1/functions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench', endpointUrl: fixtureUrl, concurrency: 64, queueSize: 1000 }),
      });
      if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
    }
    const targets: Record<Key, { url: string; path: string }> = {
      direct: { url: fixtureUrl, path: '/invoke' },
      hop: { url: hopUrl, path: '/invoke' },
      base: { url: baseUrl, path: '/v1/functions/bench:invoke' },
      cp: { url: cpUrl, path: '/v1/functions/bench:invoke' },
    };
    // The server in the path whose CPU is counted (the fixture's is the same in all three).
    const pids: Record<Key, number> = { direct: 0, hop: Number(hop.line.pid), base: Number(base?.line.pid ?? 0), cp: Number(cp.line.pid) };
    const zero = () => ({ us: 0, requests: 0 });
    const cpu: Record<Key, { us: number; requests: number }> = { direct: zero(), hop: zero(), base: zero(), cp: zero() };
    // One set of keep-alive connections per target and concurrency, reused by its slices.
    let pools: Partial<Record<Key, Pool>> = {};
    const run = async (key: Key, concurrency: number, durationS: number, count = false) => {
      const before = pids[key] ? cpuMicros(pids[key]) : Number.NaN;
      const pool = (pools[key] ??= loadPool(targets[key].url, concurrency));
      const cell = await load({ ...targets[key], body: payload, concurrency, durationS, pool });
      if (count && pids[key]) {
        cpu[key].us += cpuMicros(pids[key]) - before;
        cpu[key].requests += cell.ok + cell.errors;
      }
      return cell;
    };

    const orders = balancedOrders(KEYS);
    // Whole passes over the balanced orders, at least BENCH_SECONDS (c=32) or BENCH_C1_SECONDS (c=1) of slices per target.
    const roundsFor = (s: number) => Math.ceil(Math.max(1, Math.round(s / sliceSeconds)) / orders.length) * orders.length;
    const rows: {
      c: number;
      cells: Partial<Record<Key, ReturnType<typeof summary>>>;
      roundRatios: number[];
      cpuPerRequest: Record<Key, number>;
    }[] = [];
    for (const c of [1, 32]) {
      const rounds = roundsFor(c === 1 ? c1Seconds : seconds);
      for (const key of KEYS) cpu[key] = { us: 0, requests: 0 };
      for (const key of KEYS) await run(key, c, warmupSeconds);
      const totals: Record<Key, Cell> = { direct: emptyCell(), hop: emptyCell(), base: emptyCell(), cp: emptyCell() };
      const roundRatios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const slice: Partial<Record<Key, Cell>> = {};
        for (const key of orders[r % orders.length]!) {
          // A pause between slices: what the last one deferred (GC, timers) runs outside both.
          await sleep(settleMs);
          slice[key] = await run(key, c, sliceSeconds, true);
        }
        for (const key of KEYS) merge(totals[key], slice[key]!);
        roundRatios.push(summary(slice.cp!).rps / summary(slice.hop!).rps);
        if (process.env.BENCH_SLICES === '1')
          console.error(
            `c=${c} round ${r}: ${orders[r % orders.length]!.join(',')} ${KEYS.map((k) => `${k}=${summary(slice[k]!).rps.toFixed(0)}`).join(' ')}`,
          );
      }
      rows.push({
        c,
        cells: Object.fromEntries(KEYS.map((k) => [k, summary(totals[k])])),
        roundRatios,
        cpuPerRequest: Object.fromEntries(KEYS.map((k) => [k, cpu[k].us / cpu[k].requests])) as Record<Key, number>,
      });
      await Promise.all(Object.values(pools).map((p) => p.close()));
      pools = {};
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
      '| c | cp / hop (req/s) | per-slice cp / hop (min–max) | per-slice mean ± 95 % CI | cp / direct (req/s) | added p50 vs direct (ms) | added p50 vs hop (ms) | server CPU µs/req: hop / cp |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const { cp, hop, direct } = r.cells as Record<Key, ReturnType<typeof summary>>;
        const perReq = `${f(r.cpuPerRequest.hop)} / ${f(r.cpuPerRequest.cp)}`;
        const ci = meanCI(r.roundRatios);
        return `| ${r.c} | ${f(cp.rps / hop.rps, 3)} | ${f(Math.min(...r.roundRatios), 2)}–${f(Math.max(...r.roundRatios), 2)} | ${f(ci.mean, 3)} ± ${f(ci.half, 3)} | ${f(cp.rps / direct.rps, 2)} | ${f(cp.p50 - direct.p50, 3)} | ${f(cp.p50 - hop.p50, 3)} | ${perReq} |`;
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
    const section = [
      '<!-- bench:cp:start -->',
      '## Control plane overhead (`npm run bench:cp`)',
      '',
      `Command: \`npm run bench:cp\` (BENCH_SECONDS=${seconds} measured per target at c=32 and BENCH_C1_SECONDS=${c1Seconds} at c=1, in ${roundsFor(seconds)} (c=32) and ${roundsFor(c1Seconds)} (c=1) interleaved slices of ${sliceSeconds} s (orders balanced for carry-over, ${settleMs} ms pause before each); ` +
        `warm-up ${warmupSeconds} s per target; closed loop; payload \`${payload}\`), run ${new Date().toISOString()} ` +
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
