/**
 * `up --nats --replicas 2` on the REAL local target (built dist/, real nats-server, two control
 * planes, node runtimes): both replicas answer /readyz, the function registered once through
 * replica 0 runs sync through replica 1, an async execution enqueued through replica 0 is read
 * through replica 1, `status` lists both, a re-run changes nothing, `--replicas 1` stops replica 1,
 * `down` stops every process.
 * `--replicas 2` without `--nats` is refused before anything starts.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepIO } from '../../src/pipeline/step.js';
import { StateDir } from '../../src/state/state-dir.js';
import { natsStep, stopNatsStep } from '../../src/targets/local/nats-step.js';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { LocalUp } from '../../src/targets/local/up-state.js';
import { isAlive, which } from '../../src/util/process.js';
import { alive, createE2EEnv, type E2EEnv, nanofaas, nanofaasJson, type UpDocument } from '../e2e/helpers.js';

const FN = 'word-stats-node';

interface Replica {
  replica: number;
  apiUrl: string;
  managementUrl: string;
}
type ReplicasUp = UpDocument & { endpoints: (UpDocument['endpoints'] & { replicas?: Replica[] }) | null };

interface StatusDocument {
  ok: boolean;
  components: { name: string; state: string; pid?: number; url?: string }[];
  endpoints: { replicas?: Replica[] } | null;
}

function pidOf(stateDir: string, component: string): number {
  return (JSON.parse(readFileSync(join(stateDir, 'pids', `${component}.json`), 'utf8')) as { pid: number }).pid;
}

describe('up --nats --replicas 2 (local target)', () => {
  let e: E2EEnv;
  let replicas: Replica[];

  beforeAll(async () => {
    e = createE2EEnv('nanofaas-up-replicas-');
    const up = await nanofaasJson<ReplicasUp>(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats', '--replicas', '2'], {
      env: e.env,
      timeoutMs: 120_000,
    });
    if (up.code !== 0 || !up.doc.ok)
      throw new Error(`up --nats --replicas 2 failed (exit ${up.code}): ${JSON.stringify(up.doc.error ?? up.doc)}\n${up.stderr}`);
    replicas = up.doc.endpoints?.replicas ?? [];
  }, 150_000);

  afterAll(async () => {
    await e?.cleanup();
  }, 90_000);

  it('records both replicas (replica 0 is the CLI API) and each answers /readyz', async () => {
    expect(replicas.map((r) => r.replica)).toEqual([0, 1]);
    const endpoints = JSON.parse(readFileSync(join(e.stateDir, 'endpoints.json'), 'utf8')) as { apiUrl: string; replicas: Replica[] };
    expect(endpoints.apiUrl).toBe(replicas[0]!.apiUrl);
    expect(endpoints.replicas).toEqual(replicas);
    expect(new Set(replicas.map((r) => r.apiUrl)).size).toBe(2);
    for (const r of replicas) expect((await fetch(`${r.managementUrl}/readyz`)).status).toBe(200);
    // Same nats-server, own state dir for replica 1 (its process backend's pid registry and logs).
    const nats = JSON.parse(readFileSync(join(e.stateDir, 'pids', 'nats.json'), 'utf8')) as { url: string };
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ(pidOf(e.stateDir, 'control-plane'))).toContain(`NANOFAAS_NATS_URL=${nats.url}`);
    expect(environ(pidOf(e.stateDir, 'control-plane-1'))).toContain(`NANOFAAS_NATS_URL=${nats.url}`);
    expect(environ(pidOf(e.stateDir, 'control-plane-1'))).toContain(`NANOFAAS_STATE_DIR=${join(e.stateDir, 'replicas', '1')}`);
  });

  it('a function registered once answers a sync call through replica 1', async () => {
    const res = await fetch(`${replicas[1]!.apiUrl}/v1/functions/${FN}:invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { text: 'one two two' } }),
    });
    const body = (await res.json()) as { status: string; output: { wordCount: number } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('success');
    expect(body.output.wordCount).toBe(3);
    // Replica 1's runtime is its own child, logging under its own state dir.
    expect(existsSync(join(e.stateDir, 'replicas', '1', 'logs', `fn-${FN}.log`))).toBe(true);
  });

  it('an execution enqueued through replica 0 ends and is readable through replica 1', async () => {
    const queued = await fetch(`${replicas[0]!.apiUrl}/v1/functions/${FN}:enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { text: 'a b c d' } }),
    });
    expect(queued.status).toBe(202);
    const { executionId } = (await queued.json()) as { executionId: string };
    const ended = (await (await fetch(`${replicas[1]!.apiUrl}/v1/executions/${executionId}?waitMs=20000`)).json()) as {
      executionId: string;
      status: string;
      output: { wordCount: number };
    };
    expect(ended).toMatchObject({ executionId, status: 'success', output: { wordCount: 4 } });
  });

  it('status lists both replicas, ready, with their URLs and pids', async () => {
    const { code, doc } = await nanofaasJson<StatusDocument>(['status'], { env: e.env, timeoutMs: 30_000 });
    expect(code).toBe(0);
    const cps = doc.components.filter((c) => c.name.startsWith('control-plane'));
    expect(cps).toEqual([
      { name: 'control-plane', state: 'running', pid: pidOf(e.stateDir, 'control-plane'), url: replicas[0]!.apiUrl },
      { name: 'control-plane-1', state: 'running', pid: pidOf(e.stateDir, 'control-plane-1'), url: replicas[1]!.apiUrl },
    ]);
    expect(doc.components.find((c) => c.name === 'nats-server')?.state).toBe('running');
    expect(doc.endpoints?.replicas).toEqual(replicas);
  });

  it('logs <fn> reads the runtime log of every replica, each line marked with its control plane', async () => {
    const { code, doc } = await nanofaasJson<{ source: string; lines: string[] }>(['logs', FN], { env: e.env, timeoutMs: 30_000 });
    expect(code).toBe(0);
    expect(doc.source).toBe(`${join(e.stateDir, 'logs', `fn-${FN}.log`)}, ${join(e.stateDir, 'replicas', '1', 'logs', `fn-${FN}.log`)}`);
    expect(doc.lines.some((l) => l.startsWith('[control plane 0] '))).toBe(true);
    expect(doc.lines.some((l) => l.startsWith('[control plane 1] '))).toBe(true);
    expect(doc.lines.every((l) => /^\[control plane [01]\] /.test(l))).toBe(true);
  });

  it('re-running up with the same options keeps every process', async () => {
    const before = ['nats', 'control-plane', 'control-plane-1'].map((c) => pidOf(e.stateDir, c));
    const again = await nanofaasJson<ReplicasUp>(
      ['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats', '--replicas', '2'],
      {
        env: e.env,
        timeoutMs: 60_000,
      },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(['nats', 'control-plane', 'control-plane-1'].map((c) => pidOf(e.stateDir, c))).toEqual(before);
    expect(again.doc.functions.find((f) => f.name === FN)?.registration).toBe('kept');
    expect(again.doc.endpoints?.replicas).toEqual(replicas);
  }, 70_000);

  it('up with --replicas 1 stops replica 1 and its runtimes, and keeps replica 0', async () => {
    const keep = ['nats', 'control-plane'].map((c) => pidOf(e.stateDir, c));
    const replica1 = [
      pidOf(e.stateDir, 'control-plane-1'),
      ...findOwnedProcesses(e.stateDir)
        .filter((p) => p.env.NANOFAAS_OWNER_STATE_DIR === join(e.stateDir, 'replicas', '1'))
        .map((p) => p.pid),
    ];
    expect(replica1.length).toBeGreaterThanOrEqual(2);
    const one = await nanofaasJson<ReplicasUp>(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats', '--replicas', '1'], {
      env: e.env,
      timeoutMs: 60_000,
    });
    expect(one.code, one.stderr).toBe(0);
    expect(alive(replica1)).toEqual([]);
    expect(existsSync(join(e.stateDir, 'pids', 'control-plane-1.json'))).toBe(false);
    expect(['nats', 'control-plane'].map((c) => pidOf(e.stateDir, c))).toEqual(keep);
    expect(one.doc.endpoints?.apiUrl).toBe(replicas[0]!.apiUrl);
    expect(one.doc.endpoints?.replicas).toBeUndefined();
  }, 70_000);

  it('down stops every replica, their runtimes and nats-server', async () => {
    // Back to two, so down has both replicas to stop.
    const two = await nanofaasJson<ReplicasUp>(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats', '--replicas', '2'], {
      env: e.env,
      timeoutMs: 60_000,
    });
    expect(two.code, two.stderr).toBe(0);
    expect(two.doc.endpoints?.replicas?.map((r) => r.replica)).toEqual([0, 1]);
    const pids = [
      ...['nats', 'control-plane', 'control-plane-1'].map((c) => pidOf(e.stateDir, c)),
      ...findOwnedProcesses(e.stateDir).map((p) => p.pid),
    ];
    // Two control planes, nats-server, and one runtime per replica at least.
    expect(new Set(pids).size).toBeGreaterThanOrEqual(5);
    const down = await nanofaas(['down'], { env: e.env, timeoutMs: 60_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(alive(pids)).toEqual([]);
    expect(findOwnedProcesses(e.stateDir)).toEqual([]);
    expect(existsSync(join(e.stateDir, 'pids', 'control-plane-1.json'))).toBe(false);
  }, 130_000);

  it('--replicas 2 without --nats fails with the fix, before anything starts', async () => {
    const bare = createE2EEnv('nanofaas-up-replicas-no-nats-');
    try {
      const r = await nanofaas(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--replicas', '2'], {
        env: bare.env,
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--replicas 2 needs --nats');
      expect(r.stderr).toContain('up --nats --replicas 2');
      expect(existsSync(join(bare.stateDir, 'pids'))).toBe(false);
      expect(findOwnedProcesses(bare.stateDir)).toEqual([]);
    } finally {
      await bare.cleanup();
    }
  }, 60_000);
});

/** A port nothing listens on now (get-port would hold a port it just returned back from preferPort). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('nats-server losing its port to another start (tests run in parallel)', () => {
  it('is started again on a free port, and only the one that listens is recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nanofaas-nats-race-'));
    const state = new StateDir(join(dir, 'state'));
    const real = which('nats-server', process.env) ?? '/usr/sbin/nats-server';
    // First start: what nats-server says and does when the port was bound in between. Then the real one.
    const fake = join(dir, 'nats-server');
    writeFileSync(
      fake,
      `#!/bin/sh\nif [ ! -e "${dir}/tried" ]; then touch "${dir}/tried"; echo '[1] [FTL] Error listening on port: 127.0.0.1:4222, "listen tcp 127.0.0.1:4222: bind: address already in use"'; exit 1; fi\nexec "${real}" "$@"\n`,
    );
    chmodSync(fake, 0o755);
    const up = new LocalUp(
      { rootDir: dir, state, env: { PATH: process.env.PATH ?? '' }, suggest: (c) => c },
      { skipBuild: true, prometheus: false, nats: true },
    );
    const lines: string[] = [];
    const io = {
      dryRun: false,
      signal: new AbortController().signal,
      log: (l: string) => lines.push(l),
      target: () => {},
    } as unknown as StepIO;
    try {
      await natsStep(up, () => fake, await unusedPort()).run({ functions: [], notes: [] }, io);
      const record = state.process('nats')!;
      expect(existsSync(join(dir, 'tried'))).toBe(true);
      expect(record.command).toContain('-1');
      expect(up.natsUrl).toBe(record.url);
      expect(isAlive(record.pid)).toBe(true);
      expect(lines.some((l) => /taken meanwhile; starting on a free port/.test(l))).toBe(true);
      const ctx = { stopped: [] as string[], notes: [] as string[] };
      await stopNatsStep(state).run(ctx, io);
      expect(ctx.stopped).toEqual(['nats-server']);
      expect(isAlive(record.pid)).toBe(false);
    } finally {
      const left = state.process('nats');
      if (left && isAlive(left.pid)) process.kill(-left.pgid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
