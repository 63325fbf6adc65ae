/**
 * npm run bench:cp-profile — CPU profile of the control plane's sync hot path: the control plane
 * (dist build, pool backend) runs under `node --cpu-prof` while this process drives
 * `POST /v1/functions/bench:invoke` at c=32 against the fixture runtime, then prints the top
 * frames by self time (and the .cpuprofile path, for Chrome DevTools).
 * Env: BENCH_SECONDS (default 8), BENCH_CONCURRENCY (default 32), PROFILE_TOP (default 25), BENCH_CP_MAIN
 * (another build's control-plane/dist/main.js, to profile the before of a change).
 */
import { CONTROL_PLANE_NODE_FLAGS } from '../control-plane/src/contracts/launch.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, root, runBench, scratchDir, start, stopAll, summary } from './cp-lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? '8');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const top = Number(process.env.PROFILE_TOP ?? '25');
const payload = JSON.stringify({ input: { text: 'hello world test' } });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  endTime: number;
  startTime: number;
}

/**
 * Self time per frame (function + file:line) over the samples taken while the load ran: the
 * window [from, to] is in ms before the profile's end (the process exited right after the load).
 * Percentages are of the busy time (idle excluded), i.e. of the control plane's CPU.
 */
function topFrames(profile: Profile, fromMsBeforeEnd: number, toMsBeforeEnd: number): { frame: string; ms: number; pct: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const beforeEnd = (profile.endTime - t) / 1000;
    if (beforeEnd > fromMsBeforeEnd || beforeEnd < toMsBeforeEnd) return;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const file = url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self].map(([frame, us]) => ({ frame, ms: us / 1000, pct: (100 * us) / total })).sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const cpMain = process.env.BENCH_CP_MAIN ?? join(root, 'control-plane/dist/main.js');
  if (!existsSync(cpMain)) throw new Error('control-plane/dist/main.js is missing: run `npm run build` first');
  const tsx = join(root, 'node_modules/.bin/tsx');
  const stateDir = scratchDir('nanofaas-prof-');
  const profDir = mkdtempSync(join(tmpdir(), 'nanofaas-cpuprof-'));
  try {
    const fixture = await start(tsx, ['test/fixtures/fixture-runtime.ts']);
    const fixtureUrl = String(fixture.line.url);
    const cp = await start(process.execPath, [...CONTROL_PLANE_NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${profDir}`, cpMain], {
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
    const target = { url: cpUrl, path: '/v1/functions/bench:invoke', body: payload, concurrency };
    await load({ ...target, durationS: 1 }); // warm-up (JIT), outside the window
    const began = performance.now();
    const cell = summary(await load({ ...target, durationS: seconds }));
    const ended = performance.now();
    console.log(`c=${concurrency}: ${cell.rps.toFixed(0)} req/s, p50 ${cell.p50.toFixed(3)} ms, errors ${cell.errors}`);
    await stopAll();
    const exited = performance.now();
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
    const frames = topFrames(profile, exited - began, exited - ended);
    console.log('| self % of busy | self ms | frame |\n|---:|---:|---|');
    for (const f of frames.slice(0, top)) console.log(`| ${f.pct.toFixed(1)} | ${f.ms.toFixed(0)} | ${f.frame.replaceAll('|', '\\|')} |`);
    console.log(`\nprofile: ${join(profDir, file)}`);
  } finally {
    await stopAll();
  }
}

runBench(main);
