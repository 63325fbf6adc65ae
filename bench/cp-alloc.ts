/**
 * npm run bench:cp-alloc — what one sync call costs the control plane's heap, a figure that does
 * not move with the machine's load (unlike req/s on a shared 2-core box): the bare hop and the
 * control plane (dist build, pool backend) each run under `--trace-gc-nvp` while this process
 * drives N calls at c=32 through them to the fixture runtime; V8's per-GC lines give the bytes
 * allocated, the bytes promoted to the old generation and the GC pause time, per call.
 * Env: BENCH_REQUESTS (default 100000), BENCH_CONCURRENCY (32), BENCH_CP_MAIN (another build's
 * control-plane/dist/main.js), BENCH_NODE_FLAGS (node flags for the control plane after
 * CONTROL_PLANE_NODE_FLAGS, e.g. "--max-semi-space-size=16" to measure V8's default), NANOFAAS_* are passed through (e.g. NANOFAAS_EXECUTION_MAX_RECORDS).
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { load, root, runBench, scratchDir, start, stopAll } from './cp-lib.js';

const requests = Number(process.env.BENCH_REQUESTS ?? '100000');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const payload = JSON.stringify({ input: { text: 'hello world test' } });

interface GcTotals {
  scavenges: number;
  markCompacts: number;
  allocated: number;
  promoted: number;
  pauseMs: number;
}

const zero = (): GcTotals => ({ scavenges: 0, markCompacts: 0, allocated: 0, promoted: 0, pauseMs: 0 });

/**
 * A server under --trace-gc-nvp: its stdout carries the JSON "listening" line and V8's GC lines
 * (`pause=… gc=s|ms … allocated=… promoted=…`); `mark()` starts a new window of totals.
 */
function traced(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; window: () => GcTotals; mark: () => void; stop: () => void }> {
  const child = spawn(process.execPath, ['--trace-gc-nvp', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let totals = zero();
  const field = (line: string, name: string): number => {
    const m = new RegExp(`(?:^|\\s)${name}=([\\d.]+)`).exec(line);
    return m ? Number(m[1]) : 0;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 30 s`)), 30_000);
    child.on('exit', (code, signal) => reject(new Error(`${args.join(' ')} exited with ${code ?? signal}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          const msg = JSON.parse(line) as { msg?: string; apiUrl?: string; port?: number };
          if (msg.msg === 'listening') {
            clearTimeout(timer);
            const url = msg.apiUrl ?? `http://127.0.0.1:${String(msg.port)}`;
            resolve({ url, window: () => totals, mark: () => void (totals = zero()), stop: () => void child.kill('SIGTERM') });
          }
        } catch {
          // a log line
        }
        return;
      }
      if (!line.includes('pause=')) return;
      const gc = /gc=(\w+)/.exec(line)?.[1];
      if (gc === 's') totals.scavenges++;
      else totals.markCompacts++;
      totals.allocated += field(line, 'allocated');
      totals.promoted += field(line, 'promoted');
      totals.pauseMs += field(line, 'pause');
    });
  });
}

async function main(): Promise<void> {
  const cpMain = process.env.BENCH_CP_MAIN ?? join(root, 'control-plane/dist/main.js');
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  const tsx = join(root, 'node_modules/.bin/tsx');
  const fixture = await start(tsx, ['test/fixtures/fixture-runtime.ts']);
  const fixtureUrl = String(fixture.line.url);
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const hop = await traced(['--import', 'tsx', 'bench/cp-hop.ts', fixtureUrl], {});
  const cp = await traced([...CONTROL_PLANE_NODE_FLAGS, ...flags, cpMain], {
    NANOFAAS_PORT: '0',
    NANOFAAS_STATE_DIR: scratchDir('nanofaas-alloc-'),
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
  });
  try {
    const registered = await fetch(`${cp.url}/v1/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', endpointUrl: fixtureUrl, concurrency: 64, queueSize: 1000 }),
    });
    if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
    const rows: string[] = [];
    for (const [name, server, path] of [
      ['bare hop (node:http + undici)', hop, '/invoke'],
      ['control plane (pool path)', cp, '/v1/functions/bench:invoke'],
    ] as const) {
      const target = { url: server.url, path, body: payload, concurrency };
      await load({ ...target, durationS: 60, maxRequests: 20_000, record: false }); // warm-up: JIT, pools, old generation
      server.mark();
      const cell = await load({ ...target, durationS: 600, maxRequests: requests, record: false });
      // The last GC lines of the window may still be in the pipe.
      await new Promise((r) => setTimeout(r, 200));
      const t = server.window();
      const per = (v: number) => v / cell.ok;
      rows.push(
        `| ${name} | ${cell.ok} | ${cell.errors} | ${per(t.allocated).toFixed(0)} | ${per(t.promoted).toFixed(1)} | ${t.scavenges} | ${t.markCompacts} | ${((1000 * t.pauseMs) / cell.ok).toFixed(2)} |`,
      );
    }
    console.log(
      `Command: \`npm run bench:cp-alloc\` (${requests} calls at c=${concurrency} after 20,000 warm-up calls; node --trace-gc-nvp${flags.length ? `, control plane with ${flags.join(' ')}` : ''}), ${new Date().toISOString()}, Node ${process.version}.\n`,
    );
    console.log(
      '| server | calls | errors | bytes allocated / call | bytes promoted / call | scavenges | mark-compacts | GC pause µs / call |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) console.log(row);
  } finally {
    hop.stop();
    cp.stop();
    await stopAll();
  }
}

runBench(main);
