import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadVectors, jsonEqual } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { alive, createE2EEnv, deploymentPids, nanofaas, nanofaasJson, upLocal, type E2EEnv, type UpDocument } from './helpers.js';

// One deployment for the whole file: up → invoke each function → status → down, on real processes.
describe('local target end to end', () => {
  let e: E2EEnv;
  let up: UpDocument;
  let pids: number[] = [];

  beforeAll(async () => {
    e = createE2EEnv();
    up = await upLocal(e);
    const recorded = ['control-plane', 'prometheus'].flatMap((c) => {
      try {
        return [(JSON.parse(readFileSync(join(e.stateDir, 'pids', `${c}.json`), 'utf8')) as { pid: number }).pid];
      } catch {
        return [];
      }
    });
    pids = deploymentPids(e.stateDir, recorded);
  }, 240_000);

  afterAll(async () => {
    await e?.cleanup();
  }, 90_000);

  it('up registers and smoke-tests every runnable catalog function', () => {
    expect(up.target).toBe('local');
    expect(up.endpoints?.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const catalog = loadCatalog(ROOT_DIR);
    expect(up.functions.map((f) => f.name).sort()).toEqual(catalog.functions.map((f) => f.name).sort());
    const deployed = up.functions.filter((f) => !f.skipped);
    expect(deployed.length).toBeGreaterThan(0);
    for (const fn of deployed) {
      expect(fn.registration, fn.name).toBe('registered');
      expect(fn.smoke?.ok, `${fn.name}: ${fn.smoke?.message}`).toBe(true);
    }
    // Skips always carry a reason (a missing toolchain), never silence.
    for (const fn of up.functions.filter((f) => f.skipped)) expect(fn.skipped).toMatch(/\S/);
    // Control plane + at least one runtime process per deployed function.
    expect(alive(pids).length).toBeGreaterThanOrEqual(1 + deployed.length);
  });

  it('invoke returns the vector output for each deployed function', async () => {
    const catalog = loadCatalog(ROOT_DIR);
    for (const fn of up.functions.filter((f) => !f.skipped)) {
      const entry = catalog.functions.find((c) => c.name === fn.name)!;
      const vector = loadVectors(ROOT_DIR, catalog, entry.workload)
        .filter((v) => v.output !== undefined)
        .at(-1)!;
      const { code, doc } = await nanofaasJson<{ ok: boolean; status: string; output: unknown }>(['invoke', fn.name, '--data', '-'], {
        env: e.env,
        input: JSON.stringify(vector.input),
      });
      expect(code, fn.name).toBe(0);
      expect(doc.status).toBe('success');
      expect(jsonEqual(doc.output, vector.output), `${fn.name} on "${vector.name}": ${JSON.stringify(doc.output)}`).toBe(true);
    }
  });

  it('invoke reports a function error in one line with exit 1', async () => {
    const fn = up.functions.find((f) => !f.skipped && f.name.startsWith('word-stats'))!;
    const r = await nanofaas(['invoke', fn.name, '--data', '{"text":"   "}'], { env: e.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^nanofaas: INVALID_INPUT: /m);
  });

  it('async invoke with --wait returns the finished execution', async () => {
    const fn = up.functions.find((f) => !f.skipped && f.name.startsWith('word-stats'))!;
    const { code, doc } = await nanofaasJson<{ status: string; output: { wordCount: number }; attempts: number }>(
      ['invoke', fn.name, '--async', '--wait', '--data', '{"text":"one two two"}'],
      { env: e.env },
    );
    expect(code).toBe(0);
    expect(doc.status).toBe('success');
    expect(doc.output.wordCount).toBe(3);
    expect(doc.attempts).toBe(1);
  });

  it('status --json shows every component and function healthy', async () => {
    const { code, doc } = await nanofaasJson<{
      ok: boolean;
      components: { name: string; state: string }[];
      functions: { name: string; state: string; replicas: number; readyReplicas: number }[];
    }>(['status'], { env: e.env });
    expect(code).toBe(0);
    expect(doc.ok).toBe(true);
    expect(doc.components.find((c) => c.name === 'control-plane')?.state).toBe('running');
    const deployed = up.functions
      .filter((f) => !f.skipped)
      .map((f) => f.name)
      .sort();
    expect(doc.functions.map((f) => f.name).sort()).toEqual(deployed);
    for (const f of doc.functions) {
      expect(f.state, f.name).toBe('READY');
      expect(f.readyReplicas).toBeGreaterThanOrEqual(1);
    }
  });

  it('a second up restarts nothing healthy and registers nothing new', async () => {
    const controlPlane = () => (JSON.parse(readFileSync(join(e.stateDir, 'pids', 'control-plane.json'), 'utf8')) as { pid: number }).pid;
    const before = controlPlane();
    const t0 = performance.now();
    const again = await upLocal(e);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(controlPlane()).toBe(before);
    expect(alive([before])).toEqual([before]);
    for (const fn of again.functions.filter((f) => !f.skipped)) {
      // 'updated' only if another suite rebuilt the function's artifact meanwhile.
      expect(['kept', 'updated'], fn.name).toContain(fn.registration);
      expect(fn.smoke?.ok).toBe(true);
    }
  });

  it('doctor finds no failing checks', async () => {
    const { code, doc } = await nanofaasJson<{ checks: { id: string; status: string; detail: string }[] }>(['doctor'], { env: e.env });
    const failing = doc.checks.filter((c) => c.status === 'fail');
    expect(failing, JSON.stringify(failing)).toEqual([]);
    expect(code).toBe(0);
    expect(doc.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['api-reachable', 'functions-registered', 'exec-stdio']));
  });

  it('down stops everything up started and leaves no process behind; twice is fine', async () => {
    const first = await nanofaasJson<{ ok: boolean; stopped: string[] }>(['down'], { env: e.env, timeoutMs: 60_000 });
    expect(first.code).toBe(0);
    expect(first.doc.stopped).toContain('control-plane');
    expect(alive(pids)).toEqual([]);
    expect(deploymentPids(e.stateDir)).toEqual([]);
    const second = await nanofaasJson<{ ok: boolean; stopped: string[] }>(['down'], { env: e.env });
    expect(second.code).toBe(0);
    expect(second.doc.stopped).toEqual([]);
    const status = await nanofaasJson<{ running: boolean }>(['status'], { env: e.env });
    expect(status.doc.running).toBe(false);
  });
});

describe('local target after a control-plane crash', () => {
  let e: E2EEnv;
  beforeAll(() => {
    e = createE2EEnv('nanofaas-e2e-crash-');
  });
  afterAll(async () => {
    await e?.cleanup();
  }, 90_000);

  it('status reports it, down still leaves no process behind, and up recovers', async () => {
    await upLocal(e, ['--runtimes', 'node', '--no-prometheus']);
    const record = JSON.parse(readFileSync(join(e.stateDir, 'pids', 'control-plane.json'), 'utf8')) as { pid: number };
    const runtimes = deploymentPids(e.stateDir).filter((pid) => pid !== record.pid);
    expect(runtimes.length).toBeGreaterThanOrEqual(2);

    process.kill(record.pid, 'SIGKILL');
    const status = await nanofaasJson<{ ok: boolean; components: { name: string; state: string }[] }>(['status'], { env: e.env });
    expect(status.code).toBe(1);
    expect(status.doc.components.find((c) => c.name === 'control-plane')?.state).toBe('unhealthy');

    // up replaces the dead control plane instead of trusting the stale record.
    const again = await upLocal(e, ['--runtimes', 'node', '--no-prometheus']);
    expect(again.functions.filter((f) => !f.skipped).every((f) => f.smoke?.ok)).toBe(true);

    // A rebuilt artifact gets fresh processes even though the spec is unchanged.
    const handler = join(ROOT_DIR, 'functions', 'word-stats', 'node', 'dist', 'handler.js');
    const future = new Date(Date.now() + 60_000);
    utimesSync(handler, future, future);
    const rebuilt = await upLocal(e, ['--runtimes', 'node', '--no-prometheus']);
    expect(rebuilt.functions.find((f) => f.name === 'word-stats-node')?.registration).toBe('updated');
    expect(rebuilt.functions.find((f) => f.name === 'json-transform-node')?.registration).toBe('kept');

    const down = await nanofaasJson<{ ok: boolean }>(['down'], { env: e.env, timeoutMs: 60_000 });
    expect(down.code).toBe(0);
    expect(alive([record.pid, ...runtimes])).toEqual([]);
    expect(deploymentPids(e.stateDir)).toEqual([]);
  }, 180_000);
});
