/**
 * The docker target end to end on the real engine: up (images built when stale, pushed to a
 * registry on a free port, the control plane and every demo function as containers) → a second
 * up that changes nothing → a short load test on two functions → report → down, after which no
 * container carries this deployment's owner label and no process it recorded is alive.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FUNCTION_WAIT_MS } from '@nanofaas/control-plane/contracts';
import { ownerId } from '../../src/targets/docker/owner.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { freePort } from '../../src/util/ports.js';
import { alive, createE2EEnv, type E2EEnv, nanofaas, nanofaasJson, type UpDocument } from './helpers.js';

type UpDoc = UpDocument & { steps: { title: string; status: string; detail?: string | string[] }[] };

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const ownedContainers = (owner: string) =>
  docker('ps', '-a', '--filter', `label=dev.nanofaas.owner=${owner}`, '--format', '{{.Names}}').split('\n').filter(Boolean);
const recordedPids = (stateDir: string) =>
  existsSync(join(stateDir, 'pids'))
    ? readdirSync(join(stateDir, 'pids')).map((f) => (JSON.parse(readFileSync(join(stateDir, 'pids', f), 'utf8')) as { pid: number }).pid)
    : [];

/** Resolves with the first line of `docker <args>` matching `pattern`, then stops that command. */
function lineFrom(args: string[], pattern: RegExp): Promise<string> {
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        child.kill();
        resolve(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`docker ${args.join(' ')} exited (${code}) before a line matched ${pattern}`)));
  });
}

async function up(e: E2EEnv): Promise<UpDoc> {
  const { code, doc, stderr } = await nanofaasJson<UpDoc>(['up'], { env: e.env, timeoutMs: 900_000 });
  if (code !== 0 || !doc.ok) throw new Error(`nanofaas up failed (exit ${code}): ${JSON.stringify(doc.error ?? doc, null, 2)}\n${stderr}`);
  return doc;
}

describe('docker target end to end', () => {
  const catalog = loadCatalog(ROOT_DIR);
  let e: E2EEnv;
  let owner: string;
  let first: UpDoc;
  let resultsDir: string;
  let pids: number[] = [];

  beforeAll(async () => {
    e = createE2EEnv('nanofaas-e2e-docker-');
    e.env.NANOFAAS_TARGET = 'docker';
    e.env.SKIP_GRAFANA = 'true';
    // A registry of this test's own, so a developer's on :5000 is neither used nor stopped.
    e.env.LOCAL_REGISTRY = `localhost:${await freePort()}`;
    owner = ownerId(e.stateDir);
    resultsDir = mkdtempSync(join(tmpdir(), 'nanofaas-e2e-docker-results-'));
    first = await up(e);
    pids = recordedPids(e.stateDir);
  }, 900_000);

  afterAll(async () => {
    if (!e) return;
    await nanofaas(['down', '--remove-registry'], { env: e.env, timeoutMs: 120_000 }).catch(() => undefined);
    const left = docker('ps', '-aq', '--filter', `label=dev.nanofaas.owner=${owner}`).split('\n').filter(Boolean);
    if (left.length > 0) docker('rm', '-f', ...left);
    await e.cleanup();
    rmSync(resultsDir, { recursive: true, force: true });
  }, 180_000);

  it('up registers and smoke-tests every demo function, each in its own container next to the control plane', () => {
    expect(first.target).toBe('docker');
    expect(first.endpoints?.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.functions.map((f) => f.name).sort()).toEqual(catalog.functions.map((f) => f.name).sort());
    expect(first.functions).toHaveLength(8);
    for (const fn of first.functions) {
      expect(fn.skipped, fn.name).toBeUndefined();
      expect(fn.registration, fn.name).toBe('registered');
      expect(fn.smoke?.ok, `${fn.name}: ${fn.smoke?.message}`).toBe(true);
    }
    const names = ownedContainers(owner);
    expect(names).toContain(`nanofaas-${owner}-control-plane`);
    for (const fn of catalog.functions) expect(names, fn.name).toContain(`nanofaas-${owner}-fn-${fn.name}-0`);
    const [cp] = JSON.parse(docker('inspect', `nanofaas-${owner}-control-plane`)) as {
      Config: { User: string; Image: string; Labels: Record<string, string> };
      HostConfig: { NetworkMode: string; ReadonlyRootfs: boolean };
    }[];
    expect(cp?.Config.User).toBe('10001:10001');
    expect(cp?.HostConfig).toMatchObject({ NetworkMode: 'host', ReadonlyRootfs: true });
    expect(cp?.Config.Image).toBe(`${e.env.LOCAL_REGISTRY}/nanofaas/control-plane:0.1.0`);
    expect(cp?.Config.Labels['dev.nanofaas.component']).toBe('control-plane');
  });

  it('a second up finds the images up to date and keeps the control plane container and every function', async () => {
    const before = docker('inspect', '--format', '{{.Id}}', `nanofaas-${owner}-control-plane`);
    const second = await up(e);
    const step = (prefix: string) => second.steps.find((s) => s.title.startsWith(prefix));
    expect(step('Build the images')).toMatchObject({ status: 'skipped', detail: 'all 9 images up to date' });
    expect(step('Start the control plane container')?.status).toBe('skipped');
    expect(step('Start the control plane container')?.detail).toMatch(/^already running/);
    expect(second.functions.map((f) => f.registration)).toEqual(first.functions.map(() => 'kept'));
    expect(docker('inspect', '--format', '{{.Id}}', `nanofaas-${owner}-control-plane`)).toBe(before);
    expect(second.endpoints).toEqual(first.endpoints);
  }, 900_000);

  it('loadtest on two functions and report work through the endpoints file', async () => {
    const fns = ['word-stats-node', 'json-transform-python'];
    const load = await nanofaasJson<{ ok: boolean; runs: { function: string; requests: number; failedRate: number }[] }>(
      [
        'loadtest',
        '--stages',
        '3s:2',
        '--functions',
        fns.join(','),
        '--cool-down',
        '0',
        '--engine',
        'builtin',
        '--results-dir',
        resultsDir,
      ],
      { env: e.env, timeoutMs: 180_000 },
    );
    expect(load.code, load.stderr).toBe(0);
    expect(load.doc.runs.map((r) => r.function)).toEqual(fns);
    for (const run of load.doc.runs) {
      expect(run.requests, run.function).toBeGreaterThan(0);
      expect(run.failedRate, run.function).toBe(0);
    }
    const report = await nanofaasJson<{ ok: boolean; functions: { function: string }[] }>(['report', '--results-dir', resultsDir], {
      env: e.env,
    });
    expect(report.code).toBe(0);
    expect(report.doc.functions.map((f) => f.function).sort()).toEqual([...fns].sort());
  }, 200_000);

  it('a control plane that crashes is restarted by the engine and provisions its functions again from its volume', async () => {
    const name = `nanofaas-${owner}-control-plane`;
    const pid = Number(docker('inspect', '--format', '{{.State.Pid}}', name));
    expect(pid).toBeGreaterThan(0);
    // The engine's record of the restart, then the control plane's own "listening" line: the events this waits for.
    const since = (Date.now() / 1000).toFixed(3);
    const restarted = lineFrom(['events', '--filter', `container=${name}`, '--filter', 'event=start', '--format', '{{.Status}}'], /start/);
    process.kill(pid, 'SIGKILL');
    await restarted;
    await lineFrom(['logs', '--follow', '--since', since, name], /"msg":"listening"/);
    expect(Number(docker('inspect', '--format', '{{.RestartCount}}', name))).toBe(1);
    // Every function it had is back (the registry was on the volume) and is provisioned again.
    const api = first.endpoints!.apiUrl;
    const list = (await (await fetch(`${api}/v1/functions`)).json()) as { name: string }[];
    expect(list.map((f) => f.name).sort()).toEqual(catalog.functions.map((f) => f.name).sort());
    const settled = await fetch(`${api}/v1/functions/word-stats-node?waitMs=${MAX_FUNCTION_WAIT_MS}`);
    const view = (await settled.json()) as { status?: { state: string } };
    expect(settled.status, JSON.stringify(view)).toBe(200);
    expect(view.status?.state).toBe('READY');
    const invoked = await nanofaasJson<{ output?: { wordCount?: number } }>(
      ['invoke', 'word-stats-node', '--data', '{"text":"one two two","topN":1}'],
      { env: e.env, timeoutMs: 60_000 },
    );
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(invoked.doc.output?.wordCount).toBe(3);
  }, 180_000);

  it('down removes every container of this owner and leaves no recorded process alive', async () => {
    expect(pids.length).toBeGreaterThan(0);
    expect(alive(pids)).toEqual(pids);
    const { code, doc } = await nanofaasJson<{ ok: boolean; stopped: string[] }>(['down', '--remove-registry'], {
      env: e.env,
      timeoutMs: 120_000,
    });
    expect(code).toBe(0);
    expect(doc.stopped).toContain('control-plane');
    expect(ownedContainers(owner)).toEqual([]);
    expect(docker('volume', 'ls', '-q', '--filter', `label=dev.nanofaas.owner=${owner}`)).toBe('');
    expect(alive(pids)).toEqual([]);
    expect(recordedPids(e.stateDir)).toEqual([]);
    // Safe to repeat.
    const again = await nanofaasJson<{ ok: boolean; stopped: string[] }>(['down', '--remove-registry'], { env: e.env, timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.doc.stopped).toEqual([]);
  }, 180_000);
});
