/**
 * `functions scale` and `functions describe` through the real bin/nanofaas against a real control
 * plane (process backend, real node runtime): replica counts read back from the API, invocation
 * counts read from the management port's /metrics.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanofaas } from '../e2e/helpers.js';
import { call, startControlPlane, type RunningControlPlane, until } from '../control-plane/helpers.js';

let cp: RunningControlPlane;
let dir: string;
let env: NodeJS.ProcessEnv;
let spec: string;

const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) => nanofaas(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });

beforeAll(async () => {
  cp = await startControlPlane({ NANOFAAS_LOG_LEVEL: 'warn' });
  dir = mkdtempSync(join(tmpdir(), 'nf-cli-scale-'));
  const stateDir = join(dir, 'state');
  env = { ...process.env, NANOFAAS_URL: cp.apiUrl, NANOFAAS_STATE_DIR: stateDir, NANOFAAS_TARGET: 'local', NO_COLOR: '1' };
  delete env.NANOFAAS_API_TOKEN;
  delete env.NANOFAAS_API_TOKEN_FILE;
  delete env.npm_command;
  // What `up` records: how describe finds the management port of the API it talks to.
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'endpoints.json'),
    JSON.stringify({ target: 'local', apiUrl: cp.apiUrl, managementUrl: cp.managementUrl, updatedAt: new Date().toISOString() }),
  );
  spec = join(dir, 'words.json');
  writeFileSync(spec, JSON.stringify({ name: 'words', runtime: 'node', handler: 'functions/word-stats/node/dist/handler.js' }));
  const r = await cli(['functions', 'register', '-f', spec]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cp?.stop();
  if (cp) rmSync(cp.stateDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const apiView = async () =>
  (await call(cp.apiUrl, 'GET', '/v1/functions/words')).body as {
    replicas: number;
    status: { replicas: number; readyReplicas: number; state: string; instances?: { restarts: number; ready: boolean }[] };
  };

describe('functions scale', () => {
  it('1 → 2, then 2 → 1, waiting until the replicas are ready', async () => {
    const up = await cli(['--json', 'functions', 'scale', 'words', '2']);
    expect(up.code, up.stderr).toBe(0);
    const upDoc = JSON.parse(up.stdout);
    expect(upDoc).toMatchObject({ ok: true, name: 'words', from: 1, to: 2 });
    expect(upDoc.function.status).toMatchObject({ state: 'READY', replicas: 2, readyReplicas: 2 });
    expect((await apiView()).status).toMatchObject({ state: 'READY', replicas: 2, readyReplicas: 2 });
    expect((await apiView()).replicas).toBe(2);

    const down = await cli(['--json', 'functions', 'scale', 'words', '1']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, from: 2, to: 1 });
    const view = await apiView();
    expect(view.replicas).toBe(1);
    expect(view.status).toMatchObject({ state: 'READY', replicas: 1, readyReplicas: 1 });
  });

  it('prints one line: old → new', async () => {
    const r = await cli(['functions', 'scale', 'words', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^✔ words: 1 → 1 replica · ready after \S+$/m);
  });

  it('--no-wait returns once the count is set', async () => {
    const r = await cli(['--json', 'functions', 'scale', 'words', '1', '--no-wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: 1, to: 1 });
  });

  it.each([['-1'], ['abc'], ['101'], ['1.5']])('replicas %s: exit 2, one line', async (n) => {
    const r = await cli(['functions', 'scale', 'words', n]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('target:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nanofaas: (replicas must be an integer between 0 and 100|.*unknown option)/);
    expect((await apiView()).replicas).toBe(1);
  });

  it('a missing argument: exit 2, one line', async () => {
    const r = await cli(['functions', 'scale', 'words']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown function: the API 404 as one line, with where to find the names', async () => {
    const r = await cli(['functions', 'scale', 'no-such-fn', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nanofaas: FUNCTION_NOT_FOUND: function "no-such-fn" is not registered');
    expect(r.stderr).toContain('hint: `nanofaas functions list` shows the registered functions');
    const json = await cli(['--json', 'functions', 'scale', 'no-such-fn', '2']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'FUNCTION_NOT_FOUND' } });
  });
});

describe('functions describe', () => {
  it('the spec, the state and the invocation counts the test made', async () => {
    const invocations = 3;
    for (let i = 0; i < invocations; i++) {
      const r = await cli(['invoke', 'words', '--data', '{"text":"a b c"}']);
      expect(r.code, r.stderr).toBe(0);
    }
    const failed = await cli(['invoke', 'words', '--data', '{"text":42}']);
    expect(failed.code).toBe(1);

    const r = await cli(['functions', 'describe', 'words']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^words$/m);
    expect(r.stdout).toMatch(/^ {2}state: +READY \(1 of 1 replica ready\)$/m);
    expect(r.stdout).toMatch(/^ {2}handler: +functions\/word-stats\/node\/dist\/handler\.js$/m);
    expect(r.stdout).toMatch(/^ {2}runtime: +node$/m);
    expect(r.stdout).toMatch(/^ {2}timeout: +\d+ ms$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {4}${invocations + 1} invocations: ${invocations} success, 1 error, 0 timeout$`, 'm'));
    expect(r.stdout).toContain(`${cp.managementUrl}/metrics`);

    const json = await cli(['--json', 'functions', 'describe', 'words']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.function).toMatchObject({ name: 'words', runtime: 'node', replicas: 1, status: { state: 'READY' } });
    expect(doc.invocations).toMatchObject({ invocations: invocations + 1, success: invocations, error: 1, timeout: 0, inFlight: 0 });
  });

  it('each replica with its endpoint and restarts; a crash is the last error, kept after the restart', async () => {
    const before = await cli(['--json', 'functions', 'describe', 'words']);
    const doc = JSON.parse(before.stdout);
    expect(doc.function.status.instances).toEqual([
      { index: 0, ready: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), restarts: 0 },
    ]);
    expect(doc.lastError).toBeNull();
    const text = await cli(['functions', 'describe', 'words']);
    expect(text.stdout).toContain(`    #0  ready     ${doc.function.status.instances[0].url}  0 restarts\n`);
    expect(text.stdout).toMatch(/^ {2}last error: none reported$/m);

    // The process backend's record of the groups it started: this control plane runs one replica.
    const runDir = join(cp.stateDir, 'run');
    const [registry] = readdirSync(runDir).filter((f) => /^process-backend-\d+\.json$/.test(f));
    const children = (JSON.parse(readFileSync(join(runDir, registry as string), 'utf8')) as { children: { pid: number }[] }).children;
    expect(children).toHaveLength(1);
    process.kill(children[0]?.pid as number, 'SIGKILL');
    await until(
      async () => {
        const [replica] = (await apiView()).status.instances ?? [];
        return replica?.restarts === 1 && replica.ready ? replica : undefined;
      },
      30_000,
      'replica 0 restarted and ready',
    );

    const after = JSON.parse((await cli(['--json', 'functions', 'describe', 'words'])).stdout);
    expect(after.function.status.instances).toEqual([
      {
        index: 0,
        ready: true,
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        restarts: 1,
        lastError: { message: 'replica 0 crashed (signal SIGKILL)', at: expect.any(String) },
      },
    ]);
    expect(after.lastError).toEqual({ ...after.function.status.instances[0].lastError, replica: 0 });
    const crashed = await cli(['functions', 'describe', 'words']);
    expect(crashed.stdout).toMatch(/^ {4}#0 {2}ready {5}http:\/\/127\.0\.0\.1:\d+ {2}1 restart$/m);
    expect(crashed.stdout).toContain(`  last error: replica 0 crashed (signal SIGKILL) (${after.lastError.at}, replica 0)\n`);
  });

  it('says where the counts would come from when the management port is not known', async () => {
    const other = await cli(['--json', 'functions', 'describe', 'words'], { NANOFAAS_STATE_DIR: join(dir, 'empty-state') });
    expect(other.code, other.stderr).toBe(0);
    const doc = JSON.parse(other.stdout);
    expect(doc.invocations).toBeNull();
    expect(doc.invocationsUnavailable).toMatch(/management port is not known/);
  });

  it('an unknown function: one line with the hint; a missing name: exit 2', async () => {
    const r = await cli(['functions', 'describe', 'no-such-fn']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('nanofaas:'))).toEqual([
      'nanofaas: FUNCTION_NOT_FOUND: function "no-such-fn" is not registered',
    ]);
    const usage = await cli(['functions', 'describe']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
  });
});
