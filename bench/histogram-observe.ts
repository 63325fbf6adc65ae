// Cost of one observe() on a control-plane histogram child (the hot path of docs/design.md §6.1),
// with the old 16-bound list and the current LATENCY_BUCKETS_SECONDS; plus the scrape text per function.
// Values are drawn like this platform's calls: mostly 0.2–10 ms, a few up to 2 s. Figures go to BENCHMARKS.md by hand.
// Run: npx tsx --conditions=source bench/histogram-observe.ts  (BENCH_ROUNDS, BENCH_OBSERVES per round)
import { Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '../control-plane/src/contracts/metrics.js';

const OLD = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const N = Number(process.env.BENCH_OBSERVES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const values = Float64Array.from({ length: 4096 }, () => (rand() < 0.97 ? 0.0002 + rand() * 0.0098 : rand() * 2));

function child(buckets: readonly number[]) {
  const registry = new Registry();
  const h = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['function'], buckets: [...buckets], registers: [registry] });
  return { registry, child: h.labels({ function: 'word-stats-node' }) };
}

function round(observe: (v: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) observe(values[i & 4095] as number);
  return Number(process.hrtime.bigint() - t0) / N;
}

// Interleaved rounds, so a burst of load from elsewhere on the machine hits both lists alike.
const lists = { old: child(OLD), new: child(LATENCY_BUCKETS_SECONDS) };
const ns: Record<keyof typeof lists, number[]> = { old: [], new: [] };
for (let r = 0; r < ROUNDS; r++) for (const key of ['old', 'new'] as const) ns[key].push(round(lists[key].child.observe));
for (const key of ['old', 'new'] as const) {
  const sorted = ns[key].sort((a, b) => a - b);
  const text = await lists[key].registry.metrics();
  const series = text.split('\n').filter((l) => l.startsWith('h_seconds')).length;
  const bounds = key === 'old' ? OLD.length : LATENCY_BUCKETS_SECONDS.length;
  console.log(
    `${key}: ${bounds} bounds, ${series} series per histogram per function; observe() ns median ${sorted[Math.floor(ROUNDS / 2)]?.toFixed(0)} (min ${sorted[0]?.toFixed(0)}, max ${sorted[ROUNDS - 1]?.toFixed(0)}), ${ROUNDS} rounds × ${N}`,
  );
}
