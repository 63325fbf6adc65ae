/**
 * Shared parts of the control-plane benches (bench:cp, bench:cp-profile, bench:async): starting a
 * server process and reading its "listening" line, stopping them all, and a closed-loop load
 * generator on undici's low-level dispatch API (no promise or stream per request, so the client
 * costs as little CPU as possible on a machine it shares with the servers it measures).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { $, type ProcessPromise } from 'zx';

export const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const children: ProcessPromise[] = [];

/** Starts a server process and resolves with the JSON line in which it says it is listening. */
export function start(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ line: Record<string, unknown>; pid: number }> {
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
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 30 s`)), 30_000);
    void child.then((out) => reject(new Error(`${args.join(' ')} exited with ${out.exitCode ?? out.signal}`)));
    createInterface({ input: child.stdout }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.msg === 'listening') {
          clearTimeout(timer);
          resolvePromise({ line, pid: child.pid ?? 0 });
        }
      } catch {
        // not our line
      }
    });
  });
}

const scratchDirs: string[] = [];

/** A temporary directory (state, profiles) that stopAll() removes. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** A bench's entry point: on failure, prints the error, stops what it started and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch(async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  });
}

/** SIGTERM to each server and its children (zx signals the whole process tree); waits for exit; removes the scratch dirs. */
export async function stopAll(): Promise<void> {
  const stop = async (child: ProcessPromise) => {
    try {
      await child.kill('SIGTERM');
      await child;
    } catch {
      // It had already exited.
    }
  };
  await Promise.all(children.splice(0).map(stop));
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Cell {
  /** Answers with the expected status. */
  ok: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

export const emptyCell = (): Cell => ({ ok: 0, errors: 0, seconds: 0, latencies: [] });

export function merge(into: Cell, from: Cell): void {
  into.ok += from.ok;
  into.errors += from.errors;
  into.seconds += from.seconds;
  for (const l of from.latencies) into.latencies.push(l);
}

export function summary(cell: Cell): { rps: number; p50: number; p99: number; errors: number } {
  const sorted = [...cell.latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return { rps: cell.ok / cell.seconds, p50: pct(50), p99: pct(99), errors: cell.errors };
}

export interface LoadOptions {
  url: string;
  path: string;
  body: string;
  concurrency: number;
  durationS: number;
  /** The status that counts as an answer (200 for sync, 202 for enqueue). */
  expect?: number;
  /** Requests in all (stops early once sent and answered); the duration still bounds it. */
  maxRequests?: number;
  /** Keep latencies (false for very long runs). */
  record?: boolean;
  /** Called with each answer's body (enqueue: the execution id). */
  onBody?: (text: string) => void;
  /**
   * Connections to reuse (from `loadPool`), left open: interleaved slices of one target then run
   * on the same warm keep-alive connections instead of opening `concurrency` new ones each slice.
   */
  pool?: Pool;
}

/**
 * Orders for interleaved slices, balanced for carry-over (a Williams design): over all the orders
 * each target runs first and last equally often and follows every other target equally often.
 * What one slice leaves behind (the fixture's garbage after 40k req/s direct, a server's deferred
 * GC) then weighs on every target alike; a plain rotation let one target follow `direct` three
 * times in five rounds and the other once, which moved cp ÷ hop by ±5 % (BENCHMARKS.md).
 */
export function balancedOrders<T>(keys: readonly T[]): T[][] {
  const n = keys.length;
  const first: number[] = [0];
  for (let step = 1; first.length < n; step++) {
    first.push(step);
    if (first.length < n) first.push(n - step);
  }
  const rows = Array.from({ length: n }, (_, i) => first.map((j) => (j + i) % n));
  // An odd number of targets needs the mirrored square too.
  if (n % 2 === 1) rows.push(...rows.map((row) => [...row].reverse()));
  return rows.map((row) => row.map((j) => keys[j]!));
}

/**
 * Student's t for a two-sided 95 % interval with `df` degrees of freedom: the Cornish–Fisher
 * expansion around the normal quantile, within 1 % of the table from df = 3.
 */
export function t95(df: number): number {
  const z = 1.959964;
  const z3 = z ** 3;
  const z5 = z ** 5;
  return (
    z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

/**
 * Mean of per-slice samples with the half-width of its 95 % confidence interval. How far one run's
 * ratio can be trusted: single slices differ by ±10 % on this 2-core machine.
 */
export function meanCI(samples: readonly number[]): { mean: number; half: number } {
  const n = samples.length;
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, half: Number.NaN };
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, half: t95(n - 1) * Math.sqrt(variance / n) };
}

/** A pool for `load`: one keep-alive connection per worker. */
export function loadPool(url: string, concurrency: number): Pool {
  return new Pool(new URL(url).origin, { connections: concurrency, keepAliveTimeout: 30_000, connect: { noDelay: true } });
}

/** Closed-loop load: `concurrency` workers on as many keep-alive connections, each sending the next request when the last answered. */
export async function load(o: LoadOptions): Promise<Cell> {
  const pool = o.pool ?? loadPool(o.url, o.concurrency);
  const expect = o.expect ?? 200;
  const record = o.record ?? true;
  const cell = emptyCell();
  const headers = { 'content-type': 'application/json' };
  const deadline = performance.now() + o.durationS * 1000;
  let sent = 0;
  const max = o.maxRequests ?? Number.POSITIVE_INFINITY;
  const once = () =>
    new Promise<void>((done) => {
      const t0 = performance.now();
      let status = 0;
      let text = '';
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: (_c, s) => void (status = s),
        onResponseData: (_c, chunk) => {
          if (o.onBody) text += chunk.toString();
        },
        onResponseEnd: () => {
          if (status === expect) {
            cell.ok++;
            if (record) cell.latencies.push(performance.now() - t0);
            if (o.onBody) o.onBody(text);
          } else cell.errors++;
          done();
        },
        onResponseError: () => {
          cell.errors++;
          done();
        },
      };
      pool.dispatch({ method: 'POST', path: o.path, headers, body: o.body }, handler);
    });
  const worker = async () => {
    while (sent < max && performance.now() < deadline) {
      sent++;
      await once();
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  cell.seconds = (performance.now() - began) / 1000;
  if (!o.pool) await pool.close();
  return cell;
}

/**
 * CPU time a process has used so far, in µs, over all its threads (/proc/<pid>/task/<tid>/schedstat,
 * nanosecond resolution; Linux only, NaN elsewhere). Divided by the requests served in a window it
 * gives a server's CPU cost per request, a figure much steadier than req/s on a shared machine.
 */
export function cpuMicros(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    return Number.NaN;
  }
}
