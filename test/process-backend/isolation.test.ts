/**
 * Function code cannot read the control plane's secrets (docs/design.md §4.4): an explicit, minimal
 * environment; ${env:…} expanded from the spec only; and, with a control plane running as root,
 * function processes running as an unprivileged user who cannot read /proc/<control plane>/environ.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessBackend } from '../../control-plane/src/workloads/process/index.js';
import { parsePasswd, resolveFunctionUser } from '../../control-plane/src/workloads/process/function-user.js';
import { call, startControlPlane, until, type RunningControlPlane } from '../control-plane/helpers.js';
import { fixtureSpec, invoke, makeFixtureRoot, silentLogger } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const dirs: string[] = [];
let cp: RunningControlPlane | undefined;
let closeBackend: (() => Promise<void>) | undefined;

afterAll(async () => {
  await cp?.stop('SIGTERM');
  await closeBackend?.();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'broken line',
  'app:x:1000:1001:App:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
].join('\n');

describe('function user (NANOFAAS_FUNCTION_USER)', () => {
  const root = { uid: 0, passwd: () => PASSWD };
  const app = { uid: 1000, passwd: () => PASSWD };

  it('parses /etc/passwd without a shell, skipping comments and malformed lines', () => {
    expect(parsePasswd(PASSWD).map((e) => e.name)).toEqual(['root', 'app', 'nobody']);
  });

  it("unset: nobody when the control plane is root, the control plane's own user otherwise", () => {
    expect(resolveFunctionUser(undefined, root)).toEqual({ uid: 65534, gid: 65534, home: '/nonexistent', label: 'nobody' });
    expect(resolveFunctionUser(undefined, app)).toBeUndefined();
  });

  it('inherit keeps the user; a name or uid[:gid] switches to it', () => {
    expect(resolveFunctionUser('inherit', root)).toBeUndefined();
    expect(resolveFunctionUser('app', root)).toEqual({ uid: 1000, gid: 1001, home: '/home/app', label: 'app' });
    expect(resolveFunctionUser('1000', root)).toMatchObject({ uid: 1000, gid: 1001, home: '/home/app' });
    expect(resolveFunctionUser('4242', root)).toEqual({ uid: 4242, gid: 4242, home: '/nonexistent', label: '4242' });
    expect(resolveFunctionUser('4242:7', root)).toMatchObject({ uid: 4242, gid: 7 });
    expect(resolveFunctionUser('app', app)).toBeUndefined(); // already that user
  });

  it('refuses an unknown name and a switch that needs root, saying why', () => {
    expect(() => resolveFunctionUser('ghost', root)).toThrow('there is no user "ghost" in /etc/passwd');
    expect(() => resolveFunctionUser(undefined, { uid: 0, passwd: () => 'root:x:0:0::/root:/bin/sh' })).toThrow(
      /no user "nobody".*set NANOFAAS_FUNCTION_USER/,
    );
    expect(() => resolveFunctionUser('nobody', app)).toThrow(/needs the control plane to run as root \(it runs as uid 1000\)/);
  });
});

describe('function user at start-up', () => {
  it('an unknown user stops the control plane from starting, naming the variable', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    dirs.push(stateDir);
    await expect(startControlPlane({ NANOFAAS_FUNCTION_USER: 'no-such-user-xyz' }, stateDir)).rejects.toThrow(
      /exited with 1[\s\S]*NANOFAAS_FUNCTION_USER: there is no user "no-such-user-xyz"/,
    );
  });
});

describe('${env:…} in a command', () => {
  it("expands from the spec's env, never from the control plane's environment", async () => {
    const root = await makeFixtureRoot();
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    dirs.push(root, stateDir);
    const backend = createProcessBackend({
      rootDir: root,
      stateDir,
      logger: silentLogger,
      hostEnv: { ...process.env, MARK: 'from-the-control-plane', ONLY_HOST: 'host-secret' },
    });
    closeBackend = () => backend.close();
    const fixture = path.join(import.meta.dirname, 'fixtures', 'runtime.mjs');
    const command = [process.execPath, fixture, '${env:MARK}|${env:ONLY_HOST}|${env:UNSET:-fallback}'];
    await backend.provision(fixtureSpec('expand', { runtime: undefined, handler: undefined, command, env: { MARK: 'from-the-spec' } }));
    await backend.waitReady('expand', 10_000);
    const out = await invoke(backend.endpoints('expand')[0]!.url, null);
    expect(out.handler).toBe('from-the-spec||fallback');
    expect(out.env.MARK).toBe('from-the-spec');
    expect(out.env.ONLY_HOST).toBeUndefined();
  });
});

describe('a node function under a real control plane', () => {
  const secrets = { AWS_SECRET_ACCESS_KEY: 'aws-secret-in-cp-env', NANOFAAS_API_TOKEN: 'api-token-in-cp-env' };
  const auth = { authorization: `Bearer ${secrets.NANOFAAS_API_TOKEN}` };

  it("sees only its allowed environment and, as root, runs unprivileged and cannot read the control plane's environ", async () => {
    cp = await startControlPlane({ ...secrets, LANG: 'C.UTF-8', SOME_OPERATOR_VAR: 'x' });
    const spec = { name: 'envy', runtime: 'node', handler: 'test/process-backend/fixtures/env-handler.mjs', env: { GREETING: 'hi' } };
    const registered = await call(cp.apiUrl, 'POST', '/v1/functions', spec, auth);
    expect(registered.status, registered.text).toBe(201);
    await until(
      async () => (await call(cp!.apiUrl, 'GET', '/v1/functions/envy', undefined, auth)).body?.status?.state === 'READY',
      20_000,
      'envy READY',
    );
    const reply = await call(cp.apiUrl, 'POST', '/v1/functions/envy:invoke', { input: {} }, auth);
    expect(reply.status, reply.text).toBe(200);
    const seen = reply.body.output as {
      env: Record<string, string>;
      uid: number;
      gid: number;
      groups: number[];
      ppid: number;
      parentEnviron: string;
    };

    expect(seen.ppid).toBe(cp.child.pid);
    const allowed = [
      'PATH',
      'HOME',
      'LANG',
      'PORT',
      'FUNCTION_NAME',
      'TIMEOUT_MS',
      'HANDLER',
      'EXECUTION_MODE',
      'CALLBACK_URL',
      'CALLBACK_TOKEN',
      'NANOFAAS_PARENT_PIPE',
      'NANOFAAS_OWNER_STATE_DIR',
      'GREETING',
    ];
    expect(Object.keys(seen.env).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(seen.env).toMatchObject({ FUNCTION_NAME: 'envy', GREETING: 'hi', LANG: 'C.UTF-8', NANOFAAS_PARENT_PIPE: 'stdin' });
    for (const secret of Object.values(secrets)) expect(Object.values(seen.env)).not.toContain(secret);

    if (asRoot) {
      expect(seen.uid).not.toBe(0);
      expect(seen.gid).not.toBe(0);
      expect(seen.groups).not.toContain(0);
      expect(seen.parentEnviron).toBe('EACCES');
    }
  });
});
