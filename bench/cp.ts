/**
 * npm run bench:cp — sync invoke through the control plane vs. the same fixture runtime called
 * directly and vs. a bare node:http + undici forwarding hop, at c=1 and c=32, in one run.
 * Prints req/s, p50, p99 and the ratios, and writes the table into BENCHMARKS.md between the
 * bench:cp markers. Everything runs on 127.0.0.1; each process is stopped at the end.
 * Env: BENCH_SECONDS (measured seconds per cell, default 5), BENCH_WARMUP_SECONDS (default 1).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { $, type ProcessPromise } from 'zx';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const seconds = Number(process.env.BENCH_SECONDS ?? '5');
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? '1');
const payload = JSON.stringify({ input: { text: 'hello world test' } });
const children: ProcessPromise[] = [];

/** Starts a server process and resolves with the JSON line in which it says it is listening. */
function start(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ line: Record<string, unknown> }> {
  // stderr stays on the terminal; stdout is read for the listening line (and drained after it).
  const child = $({
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    nothrow: true,
    quiet: true,
  })`${cmd} ${args}`;
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 20 s`)), 20_000);
    void child.then((out) => reject(new Error(`${args.join(' ')} exited with ${out.exitCode ?? out.signal}`)));
    createInterface({ input: child.stdout }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.msg === 'listening') {
          clearTimeout(timer);
          resolvePromise({ line });
        }
      } catch {
        // not our line
      }
    });
  });
}

/** SIGTERM to each server and its children (zx signals the whole process tree). */
async function stopAll(): Promise<void> {
  const stop = async (child: ProcessPromise) => {
    try {
      await child.kill('SIGTERM');
    } catch {
      // It had already exited.
    }
  };
  await Promise.all(children.splice(0).map(stop));
}

interface Cell {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Closed-loop load: `concurrency` workers, each sending the next request when the last answered. */
async function load(url: string, path: string, concurrency: number, durationS: number): Promise<Cell> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationS * 1000;
  const once = () =>
    new Promise<void>((done) => {
      const t0 = performance.now();
      let status = 0;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: (_c, s) => void (status = s),
        onResponseData: () => undefined,
        onResponseEnd: () => {
          if (status === 200) latencies.push(performance.now() - t0);
          else errors++;
          done();
        },
        onResponseError: () => {
          errors++;
          done();
        },
      };
      pool.dispatch({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: payload }, handler);
    });
  const worker = async () => {
    while (performance.now() < deadline) await once();
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - began) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), errors };
}

async function measure(url: string, path: string, concurrency: number): Promise<Cell> {
  await load(url, path, concurrency, warmupSeconds);
  return load(url, path, concurrency, seconds);
}

async function main(): Promise<void> {
  const cpMain = join(root, 'control-plane/dist/main.js');
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  const tsx = join(root, 'node_modules/.bin/tsx');
  const stateDir = mkdtempSync(join(tmpdir(), 'nanofaas-bench-'));
  try {
    const fixture = await start(tsx, ['test/fixtures/fixture-runtime.ts']);
    const fixtureUrl = String(fixture.line.url);
    const hop = await start(tsx, ['bench/cp-hop.ts', fixtureUrl]);
    const hopUrl = `http://127.0.0.1:${String(hop.line.port)}`;
    const cp = await start(process.execPath, [cpMain], {
      NANOFAAS_PORT: '0',
      NANOFAAS_STATE_DIR: stateDir,
      NANOFAAS_WORKLOAD_BACKEND: 'pool',
    });
    const cpUrl = String(cp.line.apiUrl);
    const registered = await fetch(`${cpUrl}/v1/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', endpointUrl: fixtureUrl, concurrency: 64, queueSize: 1000 }),
    });
    if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${await registered.text()}`);

    const rows: { c: number; direct: Cell; hop: Cell; cp: Cell }[] = [];
    for (const c of [1, 32]) {
      const direct = await measure(fixtureUrl, '/invoke', c);
      const hopCell = await measure(hopUrl, '/invoke', c);
      const cpCell = await measure(cpUrl, '/v1/functions/bench:invoke', c);
      rows.push({ c, direct, hop: hopCell, cp: cpCell });
    }

    const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const lines = [
      '| c | target | req/s | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      ...rows.flatMap((r) =>
        (['direct', 'hop', 'cp'] as const).map((k) => {
          const cell = r[k];
          const name = { direct: 'fixture runtime direct', hop: 'bare hop (node:http + undici)', cp: 'control plane (pool path)' }[k];
          return `| ${r.c} | ${name} | ${f(cell.rps)} | ${f(cell.p50, 3)} | ${f(cell.p99, 3)} | ${cell.errors} |`;
        }),
      ),
      '',
      '| c | cp / hop (req/s) | cp / direct (req/s) | added p50 vs direct (ms) | added p50 vs hop (ms) |',
      '|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.c} | ${f(r.cp.rps / r.hop.rps, 2)} | ${f(r.cp.rps / r.direct.rps, 2)} | ${f(r.cp.p50 - r.direct.p50, 3)} | ${f(r.cp.p50 - r.hop.p50, 3)} |`,
      ),
    ];
    const table = lines.join('\n');
    console.log(table);

    const section = [
      '<!-- bench:cp:start -->',
      '## Control plane overhead (`npm run bench:cp`)',
      '',
      `Command: \`npm run bench:cp\` (BENCH_SECONDS=${seconds}, warm-up ${warmupSeconds} s per cell, closed loop, ` +
        `payload \`${payload}\`), run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}.`,
      'Floors: control plane ≥ 0.8 × bare hop and ≥ 0.3 × direct at c=32; added p50 ≤ 0.3 ms at c=1; no errors.',
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
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
