/**
 * `npm run bench:runtimes`: each catalog function called directly on its runtime (no control plane)
 * at c=1 and c=16 — req/s, p50, p99 — plus the json-transform jq filter in the watchdog's STREAM mode.
 * Closed loop: c workers, each sends its next request when the previous answer arrives, over an
 * undici keep-alive pool. Writes the table to BENCHMARKS.md between the bench:runtimes markers.
 *
 * Env: BENCH_SECONDS (per cell, default 4), BENCH_WARMUP_SECONDS (default 1), BENCH_ONLY (substring
 * filter on function names).
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { loadCatalog, repoRoot, specFor, startRuntime, type CatalogFunction, type RunningRuntime } from '../test/conformance/harness.js';
import { PAYLOADS } from './payloads.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ONLY = process.env.BENCH_ONLY ?? '';
const CONCURRENCIES = [1, 16];
const START = '<!-- bench:runtimes:start -->';
const END = '<!-- bench:runtimes:end -->';

interface Cell {
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

interface Row {
  label: string;
  runtime: string;
  cells: Cell[];
  note?: string;
}

async function measure(url: string, body: string, concurrency: number, seconds: number): Promise<Cell> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  let requests = 0;
  let errors = 0;
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  const worker = async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/invoke', method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await res.body.dump();
        if (res.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      requests += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - startedAt) / 1000;
  await pool.close();
  return {
    concurrency,
    requests,
    errors,
    rps: requests / elapsed,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
  };
}

async function benchOne(label: string, runtime: string, start: () => Promise<RunningRuntime>, payload: unknown): Promise<Row> {
  let rt: RunningRuntime;
  try {
    rt = await start();
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0] ?? 'failed to start';
    console.log(`${label}: not built (${reason})`);
    return { label, runtime, cells: [], note: `not built: ${reason}` };
  }
  try {
    const body = JSON.stringify({ input: payload, metadata: {} });
    const cells: Cell[] = [];
    for (const c of CONCURRENCIES) {
      await measure(rt.url, body, c, WARMUP_SECONDS);
      const cell = await measure(rt.url, body, c, SECONDS);
      console.log(
        `${label} c=${c}: ${cell.rps.toFixed(0)} req/s, p50 ${cell.p50.toFixed(2)} ms, p99 ${cell.p99.toFixed(2)} ms, errors ${cell.errors}`,
      );
      cells.push(cell);
    }
    return { label, runtime, cells };
  } finally {
    await rt.stop();
  }
}

function table(rows: Row[]): string {
  const fmt = (cell: Cell | undefined, f: (c: Cell) => string) => (cell ? f(cell) : '—');
  const lines = [
    '| function | runtime | req/s c=1 | p50 ms c=1 | p99 ms c=1 | req/s c=16 | p50 ms c=16 | p99 ms c=16 | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (row.cells.length === 0) {
      lines.push(`| ${row.label} | ${row.runtime} | ${row.note} | | | | | | |`);
      continue;
    }
    const [a, b] = [row.cells[0], row.cells[1]];
    lines.push(
      `| ${row.label} | ${row.runtime} | ${fmt(a, (c) => c.rps.toFixed(0))} | ${fmt(a, (c) => c.p50.toFixed(2))} | ${fmt(a, (c) => c.p99.toFixed(2))} | ` +
        `${fmt(b, (c) => c.rps.toFixed(0))} | ${fmt(b, (c) => c.p50.toFixed(2))} | ${fmt(b, (c) => c.p99.toFixed(2))} | ${row.cells.reduce((n, c) => n + c.errors, 0)} |`,
    );
  }
  return lines.join('\n');
}

async function writeSection(markdown: string): Promise<void> {
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const section = `${START}\n${markdown}\n${END}`;
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  text = from !== -1 && to > from ? text.slice(0, from) + section + text.slice(to + END.length) : `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, text);
}

const loadAtStart = os.loadavg()[0] ?? 0;
const catalog = loadCatalog();
const rows: Row[] = [];
const selected = (name: string) => name.includes(ONLY);
for (const fn of catalog.functions.filter((f: CatalogFunction) => selected(f.name))) {
  rows.push(await benchOne(fn.name, fn.runtime, () => startRuntime(specFor(fn), {}, 60_000), PAYLOADS[fn.workload]));
}
const streamLabel = 'json-transform-exec (STREAM jq)';
if (selected(streamLabel)) {
  const streamCmd = JSON.stringify([
    'jq',
    '--unbuffered',
    '-c',
    '-L',
    'functions/json-transform/exec',
    '-f',
    'functions/json-transform/exec/stream.jq',
  ]);
  const base = catalog.functions.find((f) => f.name === 'json-transform-exec')!;
  rows.push(
    await benchOne(
      streamLabel,
      'exec',
      () => startRuntime(specFor({ ...base, handler: streamCmd }, { env: { EXECUTION_MODE: 'STREAM', WATCHDOG_CONCURRENCY: '16' } })),
      PAYLOADS['json-transform'],
    ),
  );
}

const cpus = os.cpus();
const markdown = [
  '## Runtimes, called directly (no control plane)',
  '',
  `Command: \`npm run bench:runtimes\` (BENCH_SECONDS=${SECONDS} per cell after ${WARMUP_SECONDS} s warm-up; closed loop, undici keep-alive pool;`,
  `client and runtime share the machine). Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${loadAtStart.toFixed(1)} at the start (numbers from a busy machine are low).`,
  'Payloads: word-stats a 22-word text with topN 5; json-transform 20 rows, avg of salary by dept.',
  'exec functions run one gojq process per call (STDIO, WATCHDOG_CONCURRENCY = CPU count, WATCHDOG_PRESPAWN=2 from the catalog); the STREAM row is one long-lived `jq --unbuffered` process.',
  '',
  table(rows),
].join('\n');
await writeSection(markdown);
console.log('\nwrote BENCHMARKS.md (bench:runtimes section)');
