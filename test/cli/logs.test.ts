/**
 * `nanofaas logs` on the local target through the real bin/nanofaas: the log file a real control
 * plane's process backend writes, --tail, --json, --follow (new lines appear as a replica starts,
 * Ctrl-C ends it), and the errors.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../../src/util/paths.js';
import { nanofaas } from '../e2e/helpers.js';
import { call, startControlPlane, type RunningControlPlane, until } from '../control-plane/helpers.js';

let cp: RunningControlPlane;
let dir: string;
let env: NodeJS.ProcessEnv;

const cli = (args: readonly string[]) => nanofaas(args, { env, timeoutMs: 60_000 });
const logFile = () => join(cp.stateDir, 'logs', 'fn-words.log');

beforeAll(async () => {
  cp = await startControlPlane({ NANOFAAS_LOG_LEVEL: 'warn' });
  dir = mkdtempSync(join(tmpdir(), 'nf-cli-logs-'));
  // The local target reads the log where the control plane it started keeps its state.
  env = { ...process.env, NANOFAAS_URL: cp.apiUrl, NANOFAAS_STATE_DIR: cp.stateDir, NANOFAAS_TARGET: 'local', NO_COLOR: '1' };
  delete env.NANOFAAS_API_TOKEN;
  delete env.NANOFAAS_API_TOKEN_FILE;
  delete env.npm_command;
  const spec = join(dir, 'words.json');
  writeFileSync(spec, JSON.stringify({ name: 'words', runtime: 'node', handler: 'functions/word-stats/node/dist/handler.js' }));
  const r = await cli(['functions', 'register', '-f', spec]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cp?.stop();
  if (cp) rmSync(cp.stateDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fileLines = () => readFileSync(logFile(), 'utf8').split('\n').slice(0, -1);

describe('logs (local target)', () => {
  it('prints the log file, all of it or its last lines', async () => {
    const all = await cli(['logs', 'words']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^--- .* replica 0 /m);
    expect(all.stdout).toContain('runtime listening');
    expect(all.stdout.split('\n').slice(0, -1)).toEqual(fileLines());

    const last = await cli(['logs', 'words', '--tail', '1']);
    expect(last.code).toBe(0);
    expect(last.stdout).toBe(`${fileLines().at(-1)}\n`);
  });

  it('--json: the lines and where they came from', async () => {
    const r = await cli(['--json', 'logs', 'words', '--tail', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, target: 'local', function: 'words', source: logFile(), lines: fileLines().slice(-2) });
  });

  it('--follow prints lines as they are written, until Ctrl-C', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [join(ROOT_DIR, 'bin', 'nanofaas'), 'logs', 'words', '--follow'], {
      cwd: ROOT_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const seen: { pattern: RegExp; resolve: () => void }[] = [];
    const until = (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(stdout) ? resolve() : seen.push({ pattern, resolve })));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      for (const w of seen.splice(0)) (w.pattern.test(stdout) ? w.resolve : () => seen.push(w))();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      // Replica 0's lines are already in the file: once they are printed, following has begun.
      await until(/runtime listening/);
      expect(stdout).not.toMatch(/replica 1 /);
      const scaled = await call(cp.apiUrl, 'PUT', '/v1/functions/words/replicas', { replicas: 2 });
      expect(scaled.status).toBe(200);
      await until(/^--- .* replica 1 .*\n[\s\S]*runtime listening/m);
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      expect(code, stderr).toBe(130);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a function with no log: one line, exit 1', async () => {
    const r = await cli(['logs', 'no-such-fn']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('nanofaas:'))).toEqual([
      `nanofaas: function no-such-fn has no log here yet (${join(cp.stateDir, 'logs', 'fn-no-such-fn.log')}): it has never been started on this target`,
    ]);
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [['logs'], ['logs', 'words', '--tail', 'x'], ['logs', 'words', '--tail', '-3']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const json = await cli(['--json', 'logs', 'words', '--follow']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('--follow') } });
  });

  it('--since: the lines written since then, by the times the lines carry', async () => {
    const before = await cli(['logs', 'words', '--since', '1h']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout.split('\n').slice(0, -1)).toEqual(fileLines());
    // One more replica starts after `cut`: its run header is stamped later than that, and every
    // line the node runtime writes carries its own time.
    const n = (await call(cp.apiUrl, 'GET', '/v1/functions/words')).body.replicas as number;
    const cut = new Date();
    const scaled = await call(cp.apiUrl, 'PUT', '/v1/functions/words/replicas', { replicas: n + 1 });
    expect(scaled.status).toBe(200);
    const ready = async () => (await call(cp.apiUrl, 'GET', '/v1/functions/words')).body.status.readyReplicas === n + 1;
    await until(ready, 30_000, `replica ${n} ready`);
    const r = await cli(['--json', 'logs', 'words', '--since', cut.toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { since: string; lines: string[] };
    expect(doc.since).toBe(cut.toISOString());
    expect(doc.lines[0]).toMatch(new RegExp(`^--- \\S+ replica ${n} pid `));
    expect(doc.lines.filter((l) => l.startsWith('--- '))).toHaveLength(1);
    expect(doc.lines).toContainEqual(expect.stringContaining('runtime listening'));
    expect(doc.lines).toEqual(fileLines().slice(fileLines().indexOf(doc.lines[0] as string)));
    const future = await cli(['logs', 'words', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe('');
    await call(cp.apiUrl, 'PUT', '/v1/functions/words/replicas', { replicas: n });
  });

  it('a target whose cluster cannot be reached says so in one line', async () => {
    const r = await nanofaas(['--target', 'kubeconfig', 'logs', 'words'], {
      env: { ...env, NANOFAAS_TARGET: 'kubeconfig', KUBECONFIG: join(dir, 'no-such-kubeconfig') },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nanofaas: KUBECONFIG names no file that exists \(.*no-such-kubeconfig\)$/m);
  });
});
