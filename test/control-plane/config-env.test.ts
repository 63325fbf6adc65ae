/**
 * Control-plane/src/config.ts is the one place its environment
 * is parsed. The newer variables (token file, insecure bind, process backend knobs, caps, HTTP
 * edge) are refused when malformed, and the real program exits 2 with one line before listening.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../control-plane/src/config.js';
import { repoRoot } from '../conformance/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('reads the API token from NANOFAAS_API_TOKEN_FILE, trimmed', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret\n');
    expect(loadConfig({ NANOFAAS_API_TOKEN_FILE: file }).apiToken).toBe('s3cret');
  });

  it('refuses an unreadable or empty token file, and both ways at once', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => loadConfig({ NANOFAAS_API_TOKEN_FILE: join(dir, 'missing') })).toThrow(
      /NANOFAAS_API_TOKEN_FILE must name a readable file.*ENOENT/,
    );
    expect(() => loadConfig({ NANOFAAS_API_TOKEN_FILE: empty })).toThrow(/NANOFAAS_API_TOKEN_FILE names an empty file/);
    expect(() => loadConfig({ NANOFAAS_API_TOKEN_FILE: empty, NANOFAAS_API_TOKEN: 't' })).toThrow(/not both/);
  });

  it('refuses a non-loopback bind without a token unless NANOFAAS_INSECURE=true', () => {
    expect(() => loadConfig({ NANOFAAS_HOST: '0.0.0.0' })).toThrow(/NANOFAAS_HOST=0.0.0.0 is reachable from other machines/);
    expect(loadConfig({ NANOFAAS_HOST: '0.0.0.0', NANOFAAS_API_TOKEN: 't' }).host).toBe('0.0.0.0');
    expect(loadConfig({ NANOFAAS_HOST: '0.0.0.0', NANOFAAS_INSECURE: 'true' }).insecure).toBe(true);
    expect(loadConfig({ NANOFAAS_HOST: '127.0.0.2' }).host).toBe('127.0.0.2');
    expect(() => loadConfig({ NANOFAAS_INSECURE: 'sometimes' })).toThrow(/NANOFAAS_INSECURE must be true or false/);
  });

  it('refuses malformed process backend knobs, caps and HTTP edge limits, naming each', () => {
    const malformed: Record<string, string> = {
      NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: 'abc',
      NANOFAAS_PROCESS_STOP_GRACE_MS: '-5',
      NANOFAAS_FUNCTION_USER: 'not a user',
      NANOFAAS_MAX_FUNCTIONS: '0',
      NANOFAAS_MAX_TOTAL_REPLICAS: '1.5',
      NANOFAAS_MAX_LIVE_EXECUTIONS: 'many',
      NANOFAAS_HEADERS_TIMEOUT_MS: '1',
      NANOFAAS_REQUEST_TIMEOUT_MS: 'x',
      NANOFAAS_MAX_CONNECTIONS: '0',
      NANOFAAS_LOG_LEVEL: 'loud',
    };
    for (const [name, value] of Object.entries(malformed)) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value }), name).toThrow(new RegExp(`^${name} must be .*, got "${value.replace('.', '\\.')}"$`));
    }
    const ok = loadConfig({
      NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: '5000',
      NANOFAAS_PROCESS_STOP_GRACE_MS: '0',
      NANOFAAS_FUNCTION_USER: '65534:65534',
    });
    expect(ok.process).toMatchObject({ startupTimeoutMs: 5000, stopGraceMs: 0, functionUser: '65534:65534' });
  });
});

describe('node control-plane/dist/main.js', () => {
  it.each([
    [
      { NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: 'abc' },
      'NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS must be an integer between 1 and 3600000, got "abc"',
    ],
    [{ NANOFAAS_PORT: 'abc' }, 'NANOFAAS_PORT must be an integer between 0 and 65535, got "abc"'],
    [{ NANOFAAS_HOST: '0.0.0.0' }, /^NANOFAAS_HOST=0\.0\.0\.0 is reachable from other machines/],
  ] as const)('%o: exit 2 with one line, never listening', async (env, line) => {
    const child = spawn(process.execPath, ['control-plane/dist/main.js'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NANOFAAS_STATE_DIR: join(dir, 'state'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith('nanofaas control plane: ')).toBe(true);
    const message = lines[0]!.slice('nanofaas control plane: '.length);
    if (typeof line === 'string') expect(message).toBe(line);
    else expect(message).toMatch(line);
  });
});
