/**
 * The JSON check of the sync hot path: scanJson (control-plane/src/invocation/json-scan.ts)
 * against JSON.parse, on fresh strings (as a request body or a runtime's answer arrives), in
 * alternating rounds: the bench's request body, the fixture's answer and a 774-byte body.
 * Run: npx tsx --conditions=source bench/json-scan.ts (BENCH_ROUNDS, default 2; BENCH_N per cell, default 1000000)
 */
import { scanJson } from '../control-plane/src/invocation/json-scan.js';

const N = Number(process.env.BENCH_N ?? '1000000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
const TEXTS = [
  JSON.stringify({ input: { text: 'hello world test' } }),
  '{"ok":true,"wordCount":3,"input":{"text":"hello world test"}}',
  JSON.stringify({ input: { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}`, price: i * 1.5 })) } }),
];

/** ns per call of `check` over 1,000 distinct copies of `text` (not one string V8 has seen before). */
function time(text: string, check: (t: string) => unknown): number {
  const copies = Array.from({ length: 1000 }, () => Buffer.from(text).toString('utf8'));
  let passed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (check(copies[i % 1000]!)) passed++;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  if (passed !== N) throw new Error(`${passed} of ${N} checks passed`);
  return ns;
}

const rows = TEXTS.map((text) => ({ bytes: text.length, scan: [] as number[], parse: [] as number[] }));
for (let r = 0; r < ROUNDS; r++) {
  TEXTS.forEach((text, i) => {
    rows[i]!.scan.push(time(text, scanJson));
    rows[i]!.parse.push(time(text, JSON.parse));
  });
}
console.log(`| bytes | scanJson ns, each round | JSON.parse ns, each round |\n|---:|---|---|`);
for (const row of rows)
  console.log(`| ${row.bytes} | ${row.scan.map((x) => x.toFixed(0)).join(', ')} | ${row.parse.map((x) => x.toFixed(0)).join(', ')} |`);
