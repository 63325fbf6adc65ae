/**
 * `npm run bench:exec`: the exec demo functions (one process per call, STDIO) measured side by side
 * in one run, c=16 closed loop:
 *   - bare old: a spawn loop of the handlers before issue 13 (bash + jq 1.6, bench/fixtures/exec-baseline);
 *   - bare new: a spawn loop of the catalog's handler command (what the watchdog runs);
 *   - through cp: the catalog function through the control plane (process backend, watchdog), with
 *     WATCHDOG_PRESPAWN=0 (each call starts its process) and with BENCH_PRESPAWN processes started ahead.
 * The bare loops spawn from this process as the watchdog does (node:child_process, payload on stdin,
 * stdout collected, exit code checked). Targets run in short slices in rotating order, summed per
 * target, so load from elsewhere on a shared machine hits all of them alike; the ratios are the point,
 * absolute rates depend on the machine. A sequential pass (c=1) gives each handler's own call time.
 * Prints calls/s, median and p95 per call and the ratios; writes the table into BENCHMARKS.md between
 * the bench:exec markers (BENCH_WRITE=0: print only).
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_SLICE_SECONDS (default 4), BENCH_CONCURRENCY (16),
 * BENCH_SEQUENTIAL (calls per handler at c=1, default 20), BENCH_WATCHDOG_ENV (JSON object added to
 * the registered functions' env, e.g. '{"WATCHDOG_CONCURRENCY":"4"}' to try a watchdog setting),
 * BENCH_PRESPAWN (WATCHDOG_PRESPAWN of the fourth target, the same function registered again; default 2,
 * as the catalog's exec functions).
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { loadCatalog, repoRoot } from '../test/conformance/harness.js';
import { PAYLOADS } from './payloads.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SLICE_S = Number(process.env.BENCH_SLICE_SECONDS ?? 4);
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 20);
const WRITE = process.env.BENCH_WRITE !== '0';
const WATCHDOG_ENV = JSON.parse(process.env.BENCH_WATCHDOG_ENV ?? '{}') as Record<string, string>;
const PRESPAWN = process.env.BENCH_PRESPAWN ?? '2';
const START = '<!-- bench:exec:start -->';
const END = '<!-- bench:exec:end -->';

type Kind = 'old' | 'new' | 'cp' | 'spare';
const KINDS: Kind[] = ['old', 'new', 'cp', 'spare'];
const LABEL: Record<Kind, string> = {
  old: 'bare, before (bash + jq 1.6)',
  new: 'bare, now (catalog handler)',
  cp: 'through the control plane, WATCHDOG_PRESPAWN=0',
  spare: `through the control plane, WATCHDOG_PRESPAWN=${PRESPAWN}`,
};
const cells = (): Record<Kind, Cell> => ({ old: emptyCell(), new: emptyCell(), cp: emptyCell(), spare: emptyCell() });

interface Cell {
  ok: number;
  failed: number;
  /** Why calls failed: HTTP status and error code, or the exit of a bare process. */
  reasons: Map<string, number>;
  /** CPU time of everything on the call's path (see cpuMs), summed over the slices. */
  cpuMs: number;
  ms: number;
  latencies: number[];
}
const emptyCell = (): Cell => ({ ok: 0, failed: 0, reasons: new Map(), cpuMs: 0, ms: 0, latencies: [] });

/**
 * CPU milliseconds used so far by these processes and their reaped children (utime + stime +
 * cutime + cstime of /proc/<pid>/stat, in 10 ms ticks). A bare loop's calls are children this
 * process reaps; through the control plane they are the watchdog's children, so the control plane
 * and its direct children (the watchdogs) are counted with this process (the HTTP client). CPU per
 * call is what a busy shared machine distorts least: wall-clock rates move with everyone else's load.
 */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14-17 of stat(5) are 11-14 here (the list starts at field 3).
      for (let i = 11; i <= 14; i++) ticks += Number(fields[i]);
    } catch {
      // it has exited
    }
  }
  return ticks * 10;
}

function childrenOf(ppid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) found.push(Number(name));
    } catch {
      // it has exited
    }
  }
  return found;
}

/** A call's outcome: true, or why it failed. */
type Outcome = true | string;

/** One call of a handler as the watchdog makes it: a process, the payload on stdin, stdout read, exit 0 expected. */
function spawnCall(argv: string[], body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', () => {});
    child.stdin.on('error', () => {});
    child.on('error', (err: NodeJS.ErrnoException) => resolve(`spawn ${err.code ?? err.message}`));
    child.on('close', (code, signal) => {
      if (code !== 0) return resolve(`exit ${code ?? signal}`);
      try {
        JSON.parse(out);
        resolve(true);
      } catch {
        resolve('stdout not JSON');
      }
    });
    child.stdin.end(body);
  });
}

function httpCall(pool: Pool, path: string, body: string): Promise<Outcome> {
  return pool
    .request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body })
    .then(async (res) => {
      const text = await res.body.text();
      if (res.statusCode === 200) return true as const;
      let code = '';
      try {
        const parsed = JSON.parse(text) as { error?: string; details?: { reason?: string } };
        code = [parsed.error, parsed.details?.reason].filter(Boolean).join(' ');
      } catch {
        // not an error body
      }
      return `HTTP ${res.statusCode} ${code}`.trim();
    })
    .catch((err: Error) => `request ${err.message}`);
}

function count(cell: Cell, outcome: Outcome): void {
  if (outcome === true) {
    cell.ok += 1;
    return;
  }
  cell.failed += 1;
  cell.reasons.set(outcome, (cell.reasons.get(outcome) ?? 0) + 1);
}

/** Closed loop: `c` workers issue calls until the slice ends; the slice lasts until the last answer. */
async function slice(call: () => Promise<Outcome>, c: number, seconds: number, into: Cell, pids: number[] = []): Promise<void> {
  const cpu0 = cpuMs(pids);
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const outcome = await call();
      into.latencies.push(performance.now() - t);
      count(into, outcome);
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  into.ms += performance.now() - t0;
  into.cpuMs += cpuMs(pids) - cpu0;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
function stats(cell: Cell) {
  const sorted = [...cell.latencies].sort((a, b) => a - b);
  return {
    rate: (cell.ok / cell.ms) * 1000,
    p50: pct(sorted, 50),
    p95: pct(sorted, 95),
    failed: cell.failed,
    cpuPerCall: cell.cpuMs / (cell.ok + cell.failed),
    calls: cell.ok + cell.failed,
  };
}

async function startControlPlane(stateDir: string): Promise<{ apiUrl: string; pid: number; stop: () => Promise<void> }> {
  const cpMain = join(repoRoot, 'control-plane/dist/main.js');
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  const child = spawn(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, cpMain], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NANOFAAS_PORT: '0',
      NANOFAAS_WORKLOAD_BACKEND: 'process',
      NANOFAAS_STATE_DIR: stateDir,
      NANOFAAS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the control plane did not report its ports in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the control plane exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { msg?: string; apiUrl?: string };
        if (msg.msg === 'listening' && msg.apiUrl) {
          clearTimeout(timer);
          resolve(msg.apiUrl);
        }
      } catch {
        // not the listening line
      }
    });
  });
  return {
    apiUrl,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  const catalog = loadCatalog();
  const fns = catalog.functions.filter((fn) => fn.runtime === 'exec' && PAYLOADS[fn.workload] !== undefined);
  const loadBefore = loadavg()[0]!;
  const stateDir = mkdtempSync(join(tmpdir(), 'nanofaas-bench-exec-'));
  const cp = await startControlPlane(stateDir);
  const pool = new Pool(new URL(cp.apiUrl).origin, { connections: C, keepAliveTimeout: 30_000 });
  try {
    const targets = [];
    const register = async (name: string, fn: (typeof fns)[number], env: Record<string, string>) => {
      const spec = { ...fn.spec, env: { ...((fn.spec as { env?: Record<string, string> }).env ?? {}), ...WATCHDOG_ENV, ...env } };
      const res = await pool.request({
        method: 'POST',
        path: '/v1/functions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...spec, name, runtime: fn.runtime, handler: fn.handler }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`registering ${name}: HTTP ${res.statusCode} ${text}`);
    };
    for (const fn of fns) {
      await register(fn.name, fn, { WATCHDOG_PRESPAWN: '0' });
      await register(`${fn.name}-prespawn`, fn, { WATCHDOG_PRESPAWN: PRESPAWN });
      const input = PAYLOADS[fn.workload];
      const stdin = JSON.stringify(input);
      const envelope = JSON.stringify({ input });
      const oldArgv = ['bash', `bench/fixtures/exec-baseline/${fn.workload}/handler.sh`];
      // The watchdog splits WATCHDOG_CMD (the catalog handler) on whitespace, never through a shell.
      const newArgv = fn.handler.trim().split(/\s+/);
      const calls: Record<Kind, () => Promise<Outcome>> = {
        old: () => spawnCall(oldArgv, stdin),
        new: () => spawnCall(newArgv, stdin),
        cp: () => httpCall(pool, `/v1/functions/${fn.name}:invoke`, envelope),
        spare: () => httpCall(pool, `/v1/functions/${fn.name}-prespawn:invoke`, envelope),
      };
      for (const kind of KINDS) {
        const first = await calls[kind]();
        if (first !== true) throw new Error(`${fn.name}: the ${kind} target fails its first call: ${first}`);
      }
      targets.push({ fn, calls, cells: cells(), rounds: [] as Record<Kind, Cell>[] });
    }

    // Whose CPU a call uses: a bare loop's is this process and the children it reaps; through the
    // control plane add the control plane and the watchdogs (which reap the commands).
    const bare = [process.pid];
    const platform = [process.pid, cp.pid, ...childrenOf(cp.pid)];

    // c=1: each handler's own call time, interleaved call by call.
    const sequential = targets.map(cells);
    for (let i = 0; i < SEQUENTIAL; i++) {
      for (const [t, target] of targets.entries()) {
        for (const kind of KINDS) {
          const cell = sequential[t]![kind];
          const t0 = performance.now();
          const outcome = await target.calls[kind]();
          cell.latencies.push(performance.now() - t0);
          cell.ms += performance.now() - t0;
          count(cell, outcome);
        }
      }
    }

    // c=C: warm-up slice per target, then ROUNDS rounds of every target in rotating order.
    for (const target of targets) for (const kind of KINDS) await slice(target.calls[kind], C, 1, emptyCell());
    for (let r = 0; r < ROUNDS; r++) {
      for (const target of targets) {
        const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]!);
        if (r % 2 === 1) order.reverse();
        const round = cells();
        for (const kind of order)
          await slice(target.calls[kind], C, SLICE_S, round[kind], kind === 'old' || kind === 'new' ? bare : platform);
        for (const kind of KINDS) {
          const into = target.cells[kind];
          into.ok += round[kind].ok;
          into.failed += round[kind].failed;
          for (const [why, n] of round[kind].reasons) into.reasons.set(why, (into.reasons.get(why) ?? 0) + n);
          into.ms += round[kind].ms;
          into.cpuMs += round[kind].cpuMs;
          into.latencies.push(...round[kind].latencies);
        }
        target.rounds.push(round);
      }
    }
    const loadAfter = loadavg()[0]!;

    const lines = [
      `| function | target | calls/s c=${C} | p50 ms c=${C} | p95 ms c=${C} | CPU ms/call c=${C} | p50 ms c=1 | p95 ms c=1 | failed |`,
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    const ratios = [
      '',
      '| function | new ÷ old bare (calls/s) | per round | old ÷ new bare (CPU per call) | cp ÷ new bare (calls/s) | per round | cp with prespawn ÷ new bare | per round | new bare ÷ cp (CPU per call) |',
      '|---|---:|---|---:|---:|---|---:|---|---:|',
    ];
    for (const [t, target] of targets.entries()) {
      for (const kind of KINDS) {
        const s = stats(target.cells[kind]);
        const one = stats(sequential[t]![kind]);
        lines.push(
          `| ${target.fn.name} | ${LABEL[kind]} | ${f(s.rate)} | ${f(s.p50, 0)} | ${f(s.p95, 0)} | ${f(s.cpuPerCall)} | ${f(one.p50)} | ${f(one.p95)} | ${s.failed + one.failed} |`,
        );
      }
      const rate = (k: Kind) => stats(target.cells[k]).rate;
      const cpu = (k: Kind) => stats(target.cells[k]).cpuPerCall;
      const per = (a: Kind, b: Kind) => target.rounds.map((round) => f(stats(round[a]).rate / stats(round[b]).rate, 2)).join(', ');
      ratios.push(
        `| ${target.fn.name} | ${f(rate('new') / rate('old'), 2)} | ${per('new', 'old')} | ${f(cpu('old') / cpu('new'), 2)} | ${f(rate('cp') / rate('new'), 2)} | ${per('cp', 'new')} | ${f(rate('spare') / rate('new'), 2)} | ${per('spare', 'new')} | ${f(cpu('new') / cpu('cp'), 2)} |`,
      );
    }
    const failures = targets.flatMap((target, t) =>
      KINDS.flatMap((kind) => {
        const all = new Map(target.cells[kind].reasons);
        for (const [why, n] of sequential[t]![kind].reasons) all.set(why, (all.get(why) ?? 0) + n);
        return [...all].map(([why, n]) => `${target.fn.name}, ${LABEL[kind]}: ${n} × ${why}`);
      }),
    );
    if (failures.length > 0) ratios.push('', `Failed calls: ${failures.join('; ')}.`);
    const conditions = `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`;
    const table = [...lines, ...ratios].join('\n');
    console.log(table);
    console.log(`\n${conditions}`);
    if (!WRITE) return;
    const section = [
      START,
      '## exec functions: bare spawn loop vs. through the control plane (`npm run bench:exec`)',
      '',
      `Command: \`npm run bench:exec\` (c=${C} closed loop, ${ROUNDS} rounds of ${SLICE_S} s slices per target in rotating order after a 1 s warm-up; ` +
        `c=1: ${SEQUENTIAL} calls per target, interleaved), run ${new Date().toISOString()}, Node ${process.version}, ${conditions}` +
        (Object.keys(WATCHDOG_ENV).length > 0 ? `, function env ${JSON.stringify(WATCHDOG_ENV)}` : '') +
        '. Payloads as bench:runtimes. "before" = bench/fixtures/exec-baseline (bash, then `exec jq`); "now" = the catalog handler; ' +
        'through the control plane = process backend, watchdog, the catalog spec with WATCHDOG_PRESPAWN set as shown.',
      'Floors (issue 13): new ÷ old bare ≥ 2; through the control plane ÷ new bare ≥ 0.85.',
      '',
      table,
      END,
    ].join('\n');
    const file = join(repoRoot, 'BENCHMARKS.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const from = current.indexOf(START);
    const to = current.indexOf(END);
    const next =
      from !== -1 && to > from ? current.slice(0, from) + section + current.slice(to + END.length) : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    console.log(`\nwritten to ${file}`);
  } finally {
    await pool.close();
    await cp.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
