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

const ctx = { port: 40123, rootDir: '/repo', env: { PATH: '/usr/bin:/bin', HOME: '/home/u' } };

describe('resolveLaunch', () => {
  it('expands every placeholder in command and env', () => {
    const d: LaunchDescriptor = {
      command: ['node', 'runtimes/node/dist/main.js', '--port=${port}', '${root}/x', '${name}:${timeoutMs}:${runtimeMode}'],
      env: { HANDLER_PATH: '${root}/${handler}', PY: '${env:NANOFAAS_PYTHON:-/usr/bin/python3}', H: '${env:HOME}' },
    };
    const l = resolveLaunch(d, spec(), ctx);
    expect(l.command).toBe('node');
    expect(l.args).toEqual(['runtimes/node/dist/main.js', '--port=40123', '/repo/x', 'word-stats-node:1234:HTTP']);
    expect(l.env.HANDLER_PATH).toBe('/repo/functions/word-stats/node/dist/handler.js');
    expect(l.env.PY).toBe('/usr/bin/python3');
    expect(l.env.H).toBe('/home/u');
    expect(l.cwd).toBe('/repo');
  });

  it('${env:VAR:-default} prefers the variable when it is set and non-empty', () => {
    const d: LaunchDescriptor = { command: ['${env:NANOFAAS_PYTHON:-/usr/bin/python3}', '-m', 'uvicorn'] };
    expect(resolveLaunch(d, spec(), { ...ctx, env: { NANOFAAS_PYTHON: '/opt/py/bin/python' } }).command).toBe('/opt/py/bin/python');
    expect(resolveLaunch(d, spec(), { ...ctx, env: { NANOFAAS_PYTHON: '' } }).command).toBe('/usr/bin/python3');
  });

  it('always sets the standard runtime env and CALLBACK_URL when a callback base is given', () => {
    const l = resolveLaunch({ command: ['node'] }, spec(), { ...ctx, callbackBaseUrl: 'http://127.0.0.1:9/v1/internal/executions' });
    expect(l.env).toMatchObject({
      PORT: '40123',
      FUNCTION_NAME: 'word-stats-node',
      TIMEOUT_MS: '1234',
      HANDLER: 'functions/word-stats/node/dist/handler.js',
      EXECUTION_MODE: 'HTTP',
      CALLBACK_URL: 'http://127.0.0.1:9/v1/internal/executions',
      PATH: '/usr/bin:/bin',
    });
  });

  it('does not pass an inherited CALLBACK_URL when callbacks are off', () => {
    const l = resolveLaunch({ command: ['node'] }, spec(), { ...ctx, env: { ...ctx.env, CALLBACK_URL: 'http://elsewhere' } });
    expect(l.env.CALLBACK_URL).toBeUndefined();
  });

  it('env precedence: inherited < standard < descriptor < spec.env < PORT', () => {
    const d: LaunchDescriptor = { command: ['node'], env: { A: 'descriptor', B: 'descriptor', EXECUTION_MODE: 'FILE', PORT: '1' } };
    const s = spec({ env: { B: 'spec', EXECUTION_MODE: 'STREAM', PORT: '2' } });
    const l = resolveLaunch(d, s, { ...ctx, env: { A: 'inherited', FUNCTION_NAME: 'inherited', Z: 'inherited' } });
    expect(l.env.A).toBe('descriptor');
    expect(l.env.B).toBe('spec');
    expect(l.env.EXECUTION_MODE).toBe('STREAM');
    expect(l.env.FUNCTION_NAME).toBe('word-stats-node');
    expect(l.env.Z).toBe('inherited');
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
    expect((err as LaunchError).statusCode).toBe(400);
  });

  it('rejects an unknown placeholder instead of passing it through', () => {
    expect(() => resolveLaunch({ command: ['node', '${hanlder}'] }, spec(), ctx)).toThrow(/unknown placeholder \$\{hanlder\}/);
  });

  it('lists the executable and the placeholder-resolved requirements', () => {
    const d: LaunchDescriptor = {
      command: ['${env:NANOFAAS_PYTHON:-/usr/bin/python3}', '-m', 'uvicorn'],
      requires: [{ bin: '${env:NANOFAAS_PYTHON:-/usr/bin/python3}', hint: 'apt install python3' }, { bin: 'jq' }],
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
    const launch = resolveLaunch(d, spec(), { port: 1, rootDir: root, env: { PATH: '/usr/bin:/bin' } });
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
      env: { PATH: '/usr/bin:/bin' },
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
