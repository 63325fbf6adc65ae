/**
 * `functions register/get`, `invoke`, `executions get`, `status` and `doctor` driven through the
 * real bin/nanofaas against a real control plane (process backend, real node runtime), including
 * a function whose handler file does not exist.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanofaas } from '../e2e/helpers.js';
import { startControlPlane, type RunningControlPlane } from '../control-plane/helpers.js';

let cp: RunningControlPlane;
let dir: string;
let env: NodeJS.ProcessEnv;
const specs: Record<string, string> = {};

const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) => nanofaas(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });

beforeAll(async () => {
  cp = await startControlPlane({ NANOFAAS_LOG_LEVEL: 'warn' });
  dir = mkdtempSync(join(tmpdir(), 'nf-cli-fns-'));
  env = { ...process.env, NANOFAAS_URL: cp.apiUrl, NANOFAAS_STATE_DIR: join(dir, 'state'), NANOFAAS_TARGET: 'local', NO_COLOR: '1' };
  delete env.NANOFAAS_API_TOKEN;
  delete env.NANOFAAS_API_TOKEN_FILE;
  // Run through npx, hints would say `npx nanofaas`.
  delete env.npm_command;
  const write = (name: string, spec: object) => {
    specs[name] = join(dir, `${name}.json`);
    writeFileSync(specs[name], JSON.stringify(spec));
  };
  write('broken', { name: 'broken', runtime: 'node', handler: 'functions/no-such-dir/handler.js' });
  write('broken-nowait', { name: 'broken-nowait', runtime: 'node', handler: 'functions/no-such-dir/handler.js' });
  write('words', { name: 'words', runtime: 'node', handler: 'functions/word-stats/node/dist/handler.js' });
  write('typo', { name: 'typo', runtime: 'nodejs', handler: 'h.js' });
});

afterAll(async () => {
  await cp.stop();
  rmSync(cp.stateDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const logPath = () => join(cp.stateDir, 'logs', 'fn-broken.log');

describe('a function that cannot start', () => {
  it('register waits, then exits 1 with the reason, the log tail, the log path and the fix', async () => {
    const r = await cli(['functions', 'register', '-f', specs.broken!]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('✔');
    expect(r.stderr).toMatch(/^nanofaas: function broken is registered but cannot start: replica 0 exited \(code 1\)/m);
    expect(r.stderr).toMatch(/│ .*Cannot find module/);
    expect(r.stderr).toContain(`log: ${logPath()}`);
    expect(r.stderr).toContain(`hint: fix it, then: nanofaas functions register -f ${specs.broken} --replace`);
  });

  it('register --json: one document, ok false, the function view with its log tail', async () => {
    const r = await cli(['--json', 'functions', 'register', '-f', specs.broken!, '--replace']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.replaced).toBe(true);
    expect(doc.error.code).toBe('FUNCTION_UNAVAILABLE');
    expect(doc.function.status.state).toBe('FAILED');
    expect(doc.function.status.logTail.join('\n')).toContain('Cannot find module');
  });

  it('register --no-wait returns once registered', async () => {
    const r = await cli(['functions', 'register', '-f', specs['broken-nowait']!, '--no-wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('✔ registered broken-nowait');
    expect(r.stderr).toContain('not waiting for it to start');
  });

  it('a duplicate register exits 1 with the --replace hint', async () => {
    const r = await cli(['functions', 'register', '-f', specs.broken!]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nanofaas: function broken already exists');
    expect(r.stderr).toContain(`hint: to replace it: nanofaas functions register -f ${specs.broken} --replace`);
  });

  it('invoke answers FUNCTION_UNAVAILABLE with where to look', async () => {
    const r = await cli(['invoke', 'broken', '--data', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nanofaas: function "broken" cannot start: /m);
    expect(r.stderr).toContain('hint: `nanofaas functions get broken` shows its last log lines');
  });

  it('functions get is readable unless --json', async () => {
    const r = await cli(['functions', 'get', 'broken']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimStart().startsWith('{')).toBe(false);
    expect(r.stdout).toMatch(/^broken$/m);
    expect(r.stdout).toMatch(/^ {2}state: +FAILED \(0 of 1 replica ready\)$/m);
    expect(r.stdout).toMatch(/^ {2}handler: +functions\/no-such-dir\/handler\.js$/m);
    expect(r.stdout).toMatch(/│ .*Cannot find module/);
    expect(r.stdout).toContain(`log: ${logPath()}`);

    const json = await cli(['--json', 'functions', 'get', 'broken']);
    const doc = JSON.parse(json.stdout);
    expect(doc.function.name).toBe('broken');
    expect(doc.function.status.state).toBe('FAILED');
  });

  it('status: one table line per function, and the path of the log', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('FUNCTION '));
    expect(header).toBeGreaterThan(-1);
    const rows = lines.slice(header + 1).filter((l) => l.trim() !== '' && !/ log: /.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0]).sort()).toEqual(['broken', 'broken-nowait']);
    expect(rows.find((l) => l.startsWith('broken '))).toMatch(/FAILED +0\/1 +replica 0 exited/);
    expect(r.stdout).toContain(`broken log: ${logPath()}`);
  });

  it('doctor names the function that cannot start, with the log and the fix', async () => {
    const r = await cli(['doctor']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✖ functions start +broken cannot start: replica 0 exited \(code 1\)/);
    expect(r.stdout).toContain(`fix: read ${logPath()}`);
    expect(r.stdout).toContain('nanofaas functions register -f spec.json --replace');
    expect(r.stdout).not.toMatch(/seed/);
  });
});

describe('item 8: doctor hints keep the flags given', () => {
  it('"start it with nanofaas up" keeps --target and --state-dir', async () => {
    const empty = join(dir, 'nothing-here');
    const noUrl = { ...env };
    delete noUrl.NANOFAAS_URL;
    const r = await nanofaas(['--target', 'local', '--state-dir', empty, 'doctor'], { env: noUrl, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`start it with \`nanofaas up --target local --state-dir ${empty}\``);
    expect(r.stdout).not.toMatch(/`nanofaas up`/);
  });
});

describe('unknown runtime', () => {
  it('one line listing the valid runtimes', async () => {
    const r = await cli(['functions', 'register', '-f', specs.typo!]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('nanofaas:'));
    expect(lines).toEqual(['nanofaas: VALIDATION_ERROR: invalid body: body/runtime must be one of: node, python, java, exec']);
    expect(r.stderr).not.toContain('equal to constant');
  });
});

describe('async invocations and executions get', () => {
  it('register waits until the function is ready', async () => {
    const r = await cli(['functions', 'register', '-f', specs.words!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/✔ registered words · ready after /);
  });

  it('the hint after invoke --async points at executions get --wait, which prints the result', async () => {
    const queued = await cli(['invoke', 'words', '--async', '--data', '{"text":"hello world test"}']);
    expect(queued.code, queued.stderr).toBe(0);
    const id = queued.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(queued.stderr).toContain(`wait for its result with: nanofaas executions get ${id} --wait`);
    expect(queued.stderr).not.toMatch(/nanofaas invoke/);

    const got = await cli(['executions', 'get', id, '--wait']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ wordCount: 3, uniqueWords: 3 });
    expect(got.stderr).toMatch(new RegExp(`✔ words · execution ${id} · success in \\S+ after 1 attempt$`, 'm'));

    const json = await cli(['--json', 'executions', 'get', id, '--wait', '5000']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      executionId: id,
      functionName: 'words',
      status: 'success',
      attempts: 1,
      output: { wordCount: 3 },
    });
  });

  it('a failed execution exits 1 and says "1 attempt"', async () => {
    const r = await cli(['invoke', 'words', '--async', '--wait', '--data', '{"text":42}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/, 1 attempt\)$/m);
    const id = /execution ([0-9a-f-]{36})/.exec(r.stderr)?.[1];
    const got = await cli(['executions', 'get', id!]);
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/ended as error in \S+ after 1 attempt: /);
  });

  it('an unknown execution id is one line, exit 1', async () => {
    const r = await cli(['executions', 'get', 'no-such-execution', '--wait', '1000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nanofaas: execution "no-such-execution" not found');
  });
});
