import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import {
  assertRequirements,
  findMissingRequirements,
  LaunchError,
  loadLaunchDescriptor,
  parseLaunchDescriptor,
  resolveLaunch,
  type LaunchDescriptor,
} from '../../control-plane/src/workloads/process/launch.js';

function spec(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name: 'word-stats-node',
    timeoutMs: 1234,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 3,
    runtimeMode: 'HTTP',
    executionMode: 'LOCAL',
    replicas: 1,
    runtime: 'node',
    handler: 'functions/word-stats/node/dist/handler.js',
    ...overrides,
  };
}

const ctx = { port: 40123, rootDir: '/repo', hostEnv: { PATH: '/usr/bin:/bin', HOME: '/home/u' } };

describe('resolveLaunch', () => {
  it('expands every placeholder in command and env', () => {
    const d: LaunchDescriptor = {
      command: ['node', 'runtimes/node/dist/main.js', '--port=${port}', '${root}/x', '${name}:${timeoutMs}:${runtimeMode}'],
      env: { HANDLER_PATH: '${root}/${handler}', PY: '${operator:NANOFAAS_PYTHON:-/usr/bin/python3}', G: '${env:GREETING}' },
    };
    const l = resolveLaunch(d, spec({ env: { GREETING: 'hi' } }), ctx);
    expect(l.command).toBe('node');
    expect(l.args).toEqual(['runtimes/node/dist/main.js', '--port=40123', '/repo/x', 'word-stats-node:1234:HTTP']);
    expect(l.env.HANDLER_PATH).toBe('/repo/functions/word-stats/node/dist/handler.js');
    expect(l.env.PY).toBe('/usr/bin/python3');
    expect(l.env.G).toBe('hi');
    expect(l.cwd).toBe('/repo');
  });

  it('${operator:VAR:-default} reads the operator settings, preferring a set, non-empty value', () => {
    const d: LaunchDescriptor = { command: ['${operator:NANOFAAS_PYTHON:-/usr/bin/python3}', '-m', 'uvicorn'] };
    expect(resolveLaunch(d, spec(), { ...ctx, operator: { NANOFAAS_PYTHON: '/opt/py/bin/python' } }).command).toBe('/opt/py/bin/python');
    expect(resolveLaunch(d, spec(), { ...ctx, operator: { NANOFAAS_PYTHON: '' } }).command).toBe('/usr/bin/python3');
    // Neither the host environment nor the spec's env stands in for an operator setting.
    const other = { ...ctx, hostEnv: { ...ctx.hostEnv, NANOFAAS_PYTHON: '/host/python' } };
    expect(resolveLaunch(d, spec({ env: { NANOFAAS_PYTHON: '/spec/python' } }), other).command).toBe('/usr/bin/python3');
  });

  it('the shipped python and java descriptors take their interpreter from the operator settings only', async () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const hostEnv = { ...ctx.hostEnv, NANOFAAS_PYTHON: '/host/python', NANOFAAS_JAVA: '/host/java' };
    const specEnv = { NANOFAAS_PYTHON: '/spec/python', NANOFAAS_JAVA: '/spec/java' };
    const python = await loadLaunchDescriptor(repo, 'python');
    const java = await loadLaunchDescriptor(repo, 'java');
    const pySpec = spec({ runtime: 'python', env: specEnv });
    const javaSpec = spec({ runtime: 'java', env: specEnv });
    expect(resolveLaunch(python, pySpec, { ...ctx, hostEnv }).command).toBe('/usr/bin/python3');
    expect(resolveLaunch(java, javaSpec, { ...ctx, hostEnv }).command).toBe('java');
    const operator = { NANOFAAS_PYTHON: '/opt/py/bin/python3', NANOFAAS_JAVA: '/opt/jdk/bin/java' };
    expect(resolveLaunch(python, pySpec, { ...ctx, hostEnv, operator }).command).toBe('/opt/py/bin/python3');
    expect(resolveLaunch(java, javaSpec, { ...ctx, hostEnv, operator }).requires[0]?.bin).toBe('/opt/jdk/bin/java');
  });

  it("${env:VAR} expands from the spec's env only, never from the host environment", () => {
    const s = spec({
      runtime: undefined,
      handler: undefined,
      command: ['/bin/serve', '${env:MODE:-plain}', '${env:HOME}', '${env:SECRET}'],
      env: { MODE: 'fancy' },
    });
    const l = resolveLaunch(undefined, s, { ...ctx, hostEnv: { ...ctx.hostEnv, SECRET: 'host-secret', MODE: 'host' } });
    expect(l.args).toEqual(['fancy', '', '']);
    expect(resolveLaunch(undefined, { ...s, env: {} }, ctx).args).toEqual(['plain', '', '']);
  });

  it('builds the environment from nothing: of the host only PATH, HOME and LANG', () => {
    const hostEnv = {
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      NANOFAAS_API_TOKEN: 't',
      AWS_SECRET_ACCESS_KEY: 'k',
      NODE_OPTIONS: '--x',
    };
    const l = resolveLaunch({ command: ['node'], env: { D: 'descriptor' } }, spec({ env: { S: 'spec' } }), { ...ctx, hostEnv });
    expect(l.env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      FUNCTION_NAME: 'word-stats-node',
      TIMEOUT_MS: '1234',
      HANDLER: 'functions/word-stats/node/dist/handler.js',
      EXECUTION_MODE: 'HTTP',
      D: 'descriptor',
      S: 'spec',
      PORT: '40123',
    });
  });

  it('always sets the standard runtime env and CALLBACK_URL when a callback base is given', () => {
    const l = resolveLaunch({ command: ['node'] }, spec(), {
      ...ctx,
      callbackBaseUrl: 'http://127.0.0.1:9/v1/internal/executions',
      callbackToken: 'cb',
    });
    expect(l.env).toMatchObject({
      CALLBACK_TOKEN: 'cb',
      PORT: '40123',
      FUNCTION_NAME: 'word-stats-node',
      TIMEOUT_MS: '1234',
      HANDLER: 'functions/word-stats/node/dist/handler.js',
      EXECUTION_MODE: 'HTTP',
      CALLBACK_URL: 'http://127.0.0.1:9/v1/internal/executions',
      PATH: '/usr/bin:/bin',
    });
  });

  it('passes no CALLBACK_URL or CALLBACK_TOKEN when callbacks are off, whatever the spec says', () => {
    const s = spec({ env: { CALLBACK_URL: 'http://elsewhere', CALLBACK_TOKEN: 'forged' } });
    const l = resolveLaunch({ command: ['node'] }, s, {
      ...ctx,
      hostEnv: { ...ctx.hostEnv, CALLBACK_URL: 'http://host' },
      callbackToken: 'cb',
    });
    expect(l.env.CALLBACK_URL).toBeUndefined();
    expect(l.env.CALLBACK_TOKEN).toBeUndefined();
  });

  it("env precedence: host PATH/HOME/LANG < standard < descriptor < spec.env < the backend's own < PORT", () => {
    const d: LaunchDescriptor = {
      command: ['node'],
      env: { A: 'descriptor', B: 'descriptor', EXECUTION_MODE: 'FILE', PATH: '/d', PORT: '1' },
    };
    const s = spec({ env: { B: 'spec', EXECUTION_MODE: 'STREAM', PORT: '2', LANG: 'spec', NANOFAAS_PARENT_PIPE: '' } });
    const l = resolveLaunch(d, s, {
      ...ctx,
      hostEnv: { A: 'host', FUNCTION_NAME: 'host', PATH: '/h', LANG: 'host' },
      backendEnv: { NANOFAAS_PARENT_PIPE: 'stdin' },
    });
    expect(l.env.A).toBe('descriptor');
    expect(l.env.B).toBe('spec');
    expect(l.env.EXECUTION_MODE).toBe('STREAM');
    expect(l.env.FUNCTION_NAME).toBe('word-stats-node');
    expect(l.env.PATH).toBe('/d');
    expect(l.env.LANG).toBe('spec');
    expect(l.env.NANOFAAS_PARENT_PIPE).toBe('stdin');
    expect(l.env.PORT).toBe('40123');
  });

  it('resolves a relative executable path against the repo root and leaves PATH names alone', () => {
    expect(resolveLaunch({ command: ['bin/run', 'a'] }, spec(), ctx).command).toBe('/repo/bin/run');
    expect(resolveLaunch({ command: ['./bin/run'] }, spec(), ctx).command).toBe('/repo/bin/run');
    expect(resolveLaunch({ command: ['/abs/run'] }, spec(), ctx).command).toBe('/abs/run');
    expect(resolveLaunch({ command: ['java'] }, spec(), ctx).command).toBe('java');
  });

  it('launches spec.command when the spec has no runtime, with the same env', () => {
    const s = spec({ runtime: undefined, handler: undefined, command: ['/usr/bin/env', 'serve', '--port', '${port}'] });
    const l = resolveLaunch(undefined, s, ctx);
    expect(l.command).toBe('/usr/bin/env');
    expect(l.args).toEqual(['serve', '--port', '40123']);
    expect(l.env.PORT).toBe('40123');
    expect(l.env.FUNCTION_NAME).toBe('word-stats-node');
    expect(l.env.HANDLER).toBe('');
  });

  it('keeps a handler with spaces as one argument (no shell splitting)', () => {
    const l = resolveLaunch({ command: ['watchdog', '${handler}'] }, spec({ runtime: 'exec', handler: 'bash a b.sh; rm -rf /' }), ctx);
    expect(l.args).toEqual(['bash a b.sh; rm -rf /']);
  });

  it('rejects a spec without runtime and without command', () => {
    const s = spec({ runtime: undefined, command: undefined });
    expect(() => resolveLaunch(undefined, s, ctx)).toThrow(/neither "runtime" nor "command"/);
  });

  it('rejects ${handler} when the spec has no handler, naming the function', () => {
    const err = captureError(() => resolveLaunch({ command: ['node', '${handler}'] }, spec({ handler: undefined }), ctx));
    expect(err).toBeInstanceOf(LaunchError);
    expect(err.message).toMatch(/"word-stats-node".*no "handler"/);
    expect((err as LaunchError).code).toBe('VALIDATION_ERROR');
    expect((err as LaunchError).status).toBe(400);
  });

  it('rejects an unknown placeholder instead of passing it through', () => {
    expect(() => resolveLaunch({ command: ['node', '${hanlder}'] }, spec(), ctx)).toThrow(/unknown placeholder \$\{hanlder\}/);
  });

  it('lists the executable and the placeholder-resolved requirements', () => {
    const d: LaunchDescriptor = {
      command: ['${operator:NANOFAAS_PYTHON:-/usr/bin/python3}', '-m', 'uvicorn'],
      requires: [{ bin: '${operator:NANOFAAS_PYTHON:-/usr/bin/python3}', hint: 'apt install python3' }, { bin: 'jq' }],
    };
    expect(resolveLaunch(d, spec(), ctx).requires).toEqual([{ bin: '/usr/bin/python3', hint: 'apt install python3' }, { bin: 'jq' }]);
    expect(resolveLaunch({ command: ['java', '-jar'] }, spec(), ctx).requires).toEqual([{ bin: 'java' }]);
  });
});

describe('parseLaunchDescriptor', () => {
  it('accepts the documented format', () => {
    const d = parseLaunchDescriptor(
      '{"command":["node","runtimes/node/dist/main.js"],"env":{"HANDLER":"${handler}"},"requires":[{"bin":"node","hint":"install Node.js 20+"}]}',
      'x.json',
    );
    expect(d).toEqual({
      command: ['node', 'runtimes/node/dist/main.js'],
      env: { HANDLER: '${handler}' },
      requires: [{ bin: 'node', hint: 'install Node.js 20+' }],
    });
  });

  it.each([
    ['not json', /x\.json: not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{}', /"command" must be a non-empty array/],
    ['{"command":[]}', /"command" must be a non-empty array/],
    ['{"command":["node",""]}', /"command" must be a non-empty array/],
    ['{"command":["node"],"env":{"A":1}}', /"env" must be an object of string values/],
    ['{"command":["node"],"requires":{}}', /"requires" must be an array/],
    ['{"command":["node"],"requires":[{"hint":"x"}]}', /"requires\[0\]\.bin"/],
    ['{"command":["node"],"requires":[{"bin":"n","hint":3}]}', /"requires\[0\]\.hint"/],
  ])('rejects %s', (text, message) => {
    expect(() => parseLaunchDescriptor(text, 'x.json')).toThrow(message);
  });
});

describe('descriptor files and requirements (filesystem)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nf-launch-'));
    await mkdir(path.join(root, 'runtimes', 'fake'), { recursive: true });
    await writeFile(path.join(root, 'runtimes', 'fake', 'launch.json'), JSON.stringify({ command: ['bin/tool', '${handler}'] }));
    await mkdir(path.join(root, 'bin'));
    await writeFile(path.join(root, 'bin', 'tool'), '#!/bin/sh\n');
    await chmod(path.join(root, 'bin', 'tool'), 0o755);
    await writeFile(path.join(root, 'bin', 'not-executable'), 'x');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loads runtimes/<runtime>/launch.json from the root', async () => {
    const d = await loadLaunchDescriptor(root, 'fake');
    expect(d.command).toEqual(['bin/tool', '${handler}']);
  });

  it('names the missing descriptor file', async () => {
    await expect(loadLaunchDescriptor(root, 'python')).rejects.toThrow(
      `runtime "python" has no launch descriptor: ${path.join(root, 'runtimes', 'python', 'launch.json')} does not exist`,
    );
  });

  it('finds executables by relative path and on PATH; reports the missing ones with hints', async () => {
    const d: LaunchDescriptor = {
      command: ['bin/tool'],
      requires: [
        { bin: 'sh' },
        { bin: 'definitely-not-installed-xyz', hint: 'apt install xyz' },
        { bin: 'bin/not-executable' },
        { bin: 'bin' },
      ],
    };
    const launch = resolveLaunch(d, spec(), { port: 1, rootDir: root, hostEnv: { PATH: '/usr/bin:/bin' } });
    const missing = await findMissingRequirements(launch);
    expect(missing.map((r) => r.bin)).toEqual(['definitely-not-installed-xyz', 'bin/not-executable', 'bin']);
    await expect(assertRequirements(launch, 'word-stats-node')).rejects.toThrow(
      'cannot launch function "word-stats-node": missing "definitely-not-installed-xyz" (apt install xyz), "bin/not-executable", "bin"',
    );
  });

  it('passes when everything is there', async () => {
    const launch = resolveLaunch({ command: ['bin/tool'], requires: [{ bin: 'sh' }] }, spec(), {
      port: 1,
      rootDir: root,
      hostEnv: { PATH: '/usr/bin:/bin' },
    });
    expect(await findMissingRequirements(launch)).toEqual([]);
  });
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
