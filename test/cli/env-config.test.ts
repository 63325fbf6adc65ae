/**
 * Every environment variable it reads is validated once, before any
 * command does anything. `bin/nanofaas` runs as a real process; a malformed value exits 2 with one
 * line naming the variable and the accepted form, and nothing was started (no process owned by
 * the state directory, no log, no pid file).
 */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOwnedProcesses } from '../../src/targets/local/owned-processes.js';
import { cliEnv, nanofaas } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'nanofaas-env-'));
const stateDirs: string[] = [];
/** A clean environment: only what the case sets, so nothing from the test runner's leaks in. */
const cli = (args: string[], env: Record<string, string>) => nanofaas(args, cliEnv({ CI: 'true', ...env }));
afterAll(async () => {
  // Were validation missing, `up` would have started a control plane: stop whatever it did start.
  for (const state of stateDirs) if (findOwnedProcesses(state).length > 0) await cli(['down'], { NANOFAAS_STATE_DIR: state });
  rmSync(dir, { recursive: true, force: true });
});

function freshState(): string {
  const state = mkdtempSync(join(dir, 'state-'));
  stateDirs.push(state);
  return state;
}

const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'file-token-123\n');

const cases: Array<{ name: string; args: string[]; env: Record<string, string>; line: string }> = [
  {
    name: 'NANOFAAS_PORT=abc',
    args: ['up'],
    env: { NANOFAAS_PORT: 'abc' },
    line: 'NANOFAAS_PORT must be an integer port 0-65535, got "abc"',
  },
  {
    name: 'NANOFAAS_MANAGEMENT_PORT=70000',
    args: ['up'],
    env: { NANOFAAS_MANAGEMENT_PORT: '70000' },
    line: 'NANOFAAS_MANAGEMENT_PORT must be an integer port 0-65535, got "70000"',
  },
  {
    name: 'NANOFAAS_PROMETHEUS_PORT=-1',
    args: ['up'],
    env: { NANOFAAS_PROMETHEUS_PORT: '-1' },
    line: 'NANOFAAS_PROMETHEUS_PORT must be an integer port 0-65535, got "-1"',
  },
  {
    name: 'a control-plane variable, checked by the control plane parser',
    args: ['up'],
    env: { NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: 'abc' },
    line: 'NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS must be an integer between 1 and 3600000, got "abc"',
  },
  {
    name: 'SKIP_BUILD=maybe',
    args: ['up'],
    env: { SKIP_BUILD: 'maybe' },
    line: 'SKIP_BUILD must be true or false (also 1/0, yes/no), got "maybe"',
  },
  {
    name: 'NANOFAAS_API_TOKEN_FILE naming no file',
    args: ['up'],
    env: { NANOFAAS_API_TOKEN_FILE: join(dir, 'missing') },
    line: `NANOFAAS_API_TOKEN_FILE must be the path of a readable file holding the token (visible ASCII without spaces), got ${JSON.stringify(join(dir, 'missing'))}`,
  },
  {
    name: 'both NANOFAAS_API_TOKEN and NANOFAAS_API_TOKEN_FILE',
    args: ['status'],
    env: { NANOFAAS_API_TOKEN: 'a', NANOFAAS_API_TOKEN_FILE: tokenFile },
    line: 'NANOFAAS_API_TOKEN and NANOFAAS_API_TOKEN_FILE must not both be set, got both',
  },
  {
    name: 'NANOFAAS_URL=ftp://…',
    args: ['functions', 'list'],
    env: { NANOFAAS_URL: 'ftp://example' },
    line: 'NANOFAAS_URL must be an http(s) URL, e.g. http://127.0.0.1:8080, got "ftp://example"',
  },
  {
    name: 'NANOFAAS_TARGET=venus',
    args: ['status'],
    env: { NANOFAAS_TARGET: 'venus' },
    line: 'NANOFAAS_TARGET must be one of local, multipass, kubeconfig, docker, got "venus"',
  },
  {
    name: 'PROM_URL=nope',
    args: ['doctor'],
    env: { PROM_URL: 'nope' },
    line: 'PROM_URL must be an http(s) URL, e.g. http://127.0.0.1:9090, got "nope"',
  },
  {
    name: 'CPUS=0 for the multipass target',
    args: ['--target', 'multipass', 'up', '--dry-run'],
    env: { CPUS: '0' },
    line: 'CPUS must be an integer 1-64, got "0"',
  },
];

describe('bin/nanofaas with a malformed environment variable', () => {
  it.each(cases)('$name: exit 2, one line, nothing started', async ({ args, env, line }) => {
    const state = freshState();
    const r = await cli(args, { NANOFAAS_STATE_DIR: state, ...env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: `nanofaas: ${line}\n` });
    expect(r.stdout).toBe('');
    expect(readdirSync(state)).toEqual([]);
    expect(findOwnedProcesses(state)).toEqual([]);
  });

  it('--json: the same error as the one JSON document on stdout', async () => {
    const state = freshState();
    const r = await cli(['--json', 'up'], { NANOFAAS_STATE_DIR: state, NANOFAAS_PROMETHEUS_PORT: '-1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      target: 'local',
      error: { code: 'USAGE', message: 'NANOFAAS_PROMETHEUS_PORT must be an integer port 0-65535, got "-1"' },
    });
  });

  it('never echoes a malformed NANOFAAS_API_TOKEN', async () => {
    const r = await cli(['status'], { NANOFAAS_STATE_DIR: freshState(), NANOFAAS_API_TOKEN: 'top secret' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('NANOFAAS_API_TOKEN must be');
    expect(r.stderr).not.toContain('top secret');
  });

  it('another target does not read the local ports, and --help reads nothing', async () => {
    const help = await cli(['up', '--help'], { NANOFAAS_PORT: 'abc' });
    expect(help.code).toBe(0);
    const state = freshState();
    const other = await cli(['--target', 'kubeconfig', 'down', '--dry-run'], { NANOFAAS_STATE_DIR: state, NANOFAAS_PORT: 'abc' });
    expect(other.code, other.stderr).toBe(0);
  });
});

describe('NANOFAAS_API_TOKEN_FILE', () => {
  it('is the bearer token the CLI sends', async () => {
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await cli(['functions', 'list'], {
        NANOFAAS_STATE_DIR: freshState(),
        NANOFAAS_URL: url,
        NANOFAAS_API_TOKEN_FILE: tokenFile,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(seen).toEqual(['Bearer file-token-123']);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
