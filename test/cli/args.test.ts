import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseData } from '../../src/cli/invoke.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { runInProcess } from './run-in-process.js';

const stateDir = mkdtempSync(join(tmpdir(), 'nanofaas-cli-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** The CLI in-process, with its own state directory and a bare environment. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await runInProcess(['--state-dir', stateDir, ...args], { env: { PATH: process.env.PATH, ...env } });
  return { ...r, errLines: r.stderr.split('\n').filter(Boolean) };
}

describe('usage errors: one clear line, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['up', '--bogus'], /unknown option '--bogus'.*nanofaas up --help/],
    ['bad --target value', ['--target', 'mars', 'status'], /argument 'mars' is invalid.*local, multipass, kubeconfig, docker/],
    ['unknown command', ['upp'], /unknown command 'upp'/],
    ['missing argument', ['invoke'], /missing required argument 'function'/],
    ['bad integer', ['up', '--port', 'eighty'], /--port must be an integer between 0 and 65535, got 'eighty'/],
    ['out-of-range integer', ['up', '--port', '70000'], /--port must be an integer/],
    ['invalid JSON data', ['invoke', 'fn', '--data', '{text:'], /--data is not valid JSON/],
    ['--wait without --async', ['invoke', 'fn', '--data', '1', '--wait'], /--wait only applies with --async/],
    ['missing spec file', ['functions', 'register', '-f', '/nonexistent/spec.json'], /cannot read \/nonexistent\/spec.json: ENOENT/],
    ['missing -f', ['functions', 'register'], /required option '-f, --file <spec.json>' not specified/],
    [
      'unknown catalog function',
      ['up', '--functions', 'word-stats-node,word-stats-cobol'],
      /unknown function word-stats-cobol \(catalog: .*word-stats-node/,
    ],
    ['unknown runtime', ['up', '--runtimes', 'node,cobol'], /unknown runtime cobol \(choose .*node/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await cli(args, { NANOFAAS_URL: 'http://127.0.0.1:9' });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const problem = r.errLines.filter((l) => l.startsWith('nanofaas'));
      expect(problem).toHaveLength(1);
      expect(problem[0]).toMatch(message);
    });
  }

  it('an unknown NANOFAAS_TARGET is a usage error', async () => {
    const r = await cli(['status'], { NANOFAAS_TARGET: 'venus' });
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`nanofaas: NANOFAAS_TARGET must be one of local, multipass, kubeconfig, docker, got "venus"`]);
  });

  it('with --json the error is the one JSON document on stdout', async () => {
    const r = await cli(['--json', 'up', '--port', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { ok: boolean; target: string; error: { code: string; message: string } };
    expect(doc.ok).toBe(false);
    expect(doc.target).toBe('local');
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.message).toMatch(/--port must be an integer/);
  });
});

describe('help', () => {
  for (const command of ['up', 'down', 'status', 'invoke', 'functions', 'functions list', 'functions register', 'doctor']) {
    it(`${command} --help has examples and exits 0`, async () => {
      const r = await cli([...command.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: nanofaas');
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('$ nanofaas');
    });
  }
});

describe('help exit codes', () => {
  it('`help up` exits 0; a missing subcommand is a usage error', async () => {
    expect((await cli(['help', 'up'])).code).toBe(0);
    expect((await cli(['functions'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
  });
});

describe('API errors: one line, exit 1', () => {
  it('an unreachable API names the URL', async () => {
    const r = await cli(['invoke', 'word-stats-node', '--data', '{"text":"a"}'], { NANOFAAS_URL: 'http://127.0.0.1:9/v1/functions' });
    expect(r.code).toBe(1);
    expect(r.errLines[0]).toBe('target: local');
    expect(r.errLines[1]).toMatch(/^nanofaas: cannot reach the nanofaas API at http:\/\/127\.0\.0\.1:9 \(connection refused\)$/);
    expect(r.errLines[2]).toMatch(/hint:/);
  });

  it('nothing running and no NANOFAAS_URL says how to start it', async () => {
    const r = await cli(['functions', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no running nanofaas found for target local/);
    expect(r.stderr).toMatch(/hint: run `nanofaas up`/);
  });

  it('status of a stopped local target is a clean report, and --json prints only JSON', async () => {
    const r = await cli(['--json', 'status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { target: string; running: boolean; components: { name: string; state: string }[] };
    expect(doc.target).toBe('local');
    expect(doc.running).toBe(false);
    expect(doc.components.map((c) => `${c.name}:${c.state}`)).toEqual(['control-plane:stopped', 'runtimes:stopped', 'prometheus:stopped']);
  });

  it('the chosen target is printed', async () => {
    const r = await cli(['down']);
    expect(r.code).toBe(0);
    expect(r.errLines[0]).toBe('target: local');
    expect(r.stdout).toContain('nothing was running');
  });
});

describe('--data', () => {
  it('reads inline JSON, @file and stdin', () => {
    const file = join(stateDir, 'payload.json');
    writeFileSync(file, '{"text":"from file"}');
    expect(parseData('{"a":1}')).toEqual({ a: 1 });
    expect(parseData(`@${file}`)).toEqual({ text: 'from file' });
    expect(parseData('-', () => '"from stdin"')).toBe('from stdin');
    expect(parseData(undefined)).toBeNull();
  });
});

describe('the real binary', () => {
  it('bin/nanofaas exits 2 with one line for an unknown flag', () => {
    const r = spawnSync(process.execPath, [join(ROOT_DIR, 'bin', 'nanofaas'), 'status', '--frobnicate'], {
      encoding: 'utf8',
      env: { ...process.env, NANOFAAS_STATE_DIR: stateDir },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`nanofaas: unknown option '--frobnicate' (see \`nanofaas status --help\`)`]);
  });

  it('the first-run build in a clone writes nothing on stdout (so --json stays one document)', () => {
    // A stand-in clone: bin/nanofaas plus a build script that is noisy on stdout and emits a tiny CLI.
    const clone = join(stateDir, 'clone');
    mkdirSync(join(clone, 'bin'), { recursive: true });
    copyFileSync(join(ROOT_DIR, 'bin', 'nanofaas'), join(clone, 'bin', 'nanofaas'));
    const emit =
      "console.log('compiling…');fs.mkdirSync('dist/cli',{recursive:true});fs.writeFileSync('dist/cli/main.js','process.stdout.write(JSON.stringify({ok:true})+String.fromCharCode(10))')";
    writeFileSync(
      join(clone, 'package.json'),
      JSON.stringify({ name: 'clone', version: '0.0.0', type: 'module', scripts: { build: `node -e "${emit}"` } }),
    );
    const r = spawnSync(process.execPath, [join(clone, 'bin', 'nanofaas'), 'status', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, NANOFAAS_STATE_DIR: stateDir },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true });
    expect(r.stderr).toContain('compiling…');
  });
});
