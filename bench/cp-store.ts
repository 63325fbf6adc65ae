/**
 * The cost of keeping finished executions (NANOFAAS_EXECUTION_MAX_RECORDS, default 100,000): one
 * ExecutionStore create + finish, with an output like the fixture's, at several caps, in
 * alternating rounds. In a control plane under load every record outlives the young generation,
 * so whatever objects a record keeps are copied and promoted (now only its output text: the rest
 * is in typed arrays, invocation/finished-records.ts), and a large cap spreads the index over more
 * memory; with a small cap almost nothing survives.
 * Run: npx tsx --conditions=source bench/cp-store.ts (BENCH_ROUNDS, default 3; BENCH_N per cell, default 300000)
 */
import { ExecutionStore } from '../control-plane/src/invocation/executions.js';

const N = Number(process.env.BENCH_N ?? '300000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const CAPS = [100, 10_000, 100_000];

function cell(cap: number): number {
  const store = new ExecutionStore({ ttlMs: 900_000, maxRecords: cap });
  // Fill to the cap first: the measured part is the steady state of a long-running control plane.
  const fill = (n: number) => {
    for (let i = 0; i < n; i++) {
      const e = store.create('bench');
      const outputJson = `{"ok":true,"input":{"text":"hello world test ${i % 1000}"}}`;
      store.finish(e, { status: 'success', httpStatus: 200, outputJson }, 1);
    }
  };
  fill(cap);
  const t0 = process.hrtime.bigint();
  fill(N);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  store.close();
  return ns;
}

const results = new Map<number, number[]>(CAPS.map((c) => [c, []]));
for (let r = 0; r < ROUNDS; r++) for (const cap of r % 2 ? [...CAPS].reverse() : CAPS) results.get(cap)!.push(cell(cap));
console.log('| records kept (cap) | ns per create + finish, each round | median |\n|---:|---|---:|');
for (const [cap, ns] of results) {
  const sorted = [...ns].sort((a, b) => a - b);
  console.log(`| ${cap} | ${ns.map((n) => n.toFixed(0)).join(', ')} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} |`);
}
