import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadBackend } from '../../control-plane/src/workloads/backend.js';
import { createProcessBackend } from '../../control-plane/src/workloads/process/index.js';
import { processStartTime } from '../../control-plane/src/workloads/process/pid-registry.js';
import {
  fixtureSpec,
  invoke,
  isAlive,
  makeFixtureRoot,
  readyPids,
  recordedPids,
  sharedTempDir,
  silentLogger,
  waitFor,
  waitGone,
} from './helpers.js';

let root: string;
const stateDirs: string[] = [];
const asRoot = process.getuid?.() === 0;
const backends: WorkloadBackend[] = [];

async function newBackend(extra: { startupTimeoutMs?: number; stopGraceMs?: number } = {}) {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
  stateDirs.push(stateDir);
  const backend = createProcessBackend({
    rootDir: root,
    stateDir,
    logger: silentLogger,
    callbackBaseUrl: 'http://127.0.0.1:1/v1/internal/executions',
    startupTimeoutMs: extra.startupTimeoutMs ?? 10_000,
    stopGraceMs: extra.stopGraceMs ?? 2_000,
    restart: { initialDelayMs: 50, maxDelayMs: 400, stableMs: 1_000 },
    // The control plane's secrets are in its environment; no child may inherit them.
    hostEnv: { ...process.env, NANOFAAS_API_TOKEN: 'control-plane-secret', AWS_SECRET_ACCESS_KEY: 'aws-secret', LANG: 'C.UTF-8' },
    callbackToken: (name) => `callback-credential-of-${name}`,
  });
  backends.push(backend);
  return { backend, stateDir };
}

beforeAll(async () => {
  root = await makeFixtureRoot();
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  await Promise.all([root, ...stateDirs].map((d) => rm(d, { recursive: true, force: true })));
});

describe('process backend with a fixture runtime', () => {
  it('spawns a replica, reports it ready and serves /invoke through its endpoint', async () => {
    const { backend, stateDir } = await newBackend();
    const changes: string[] = [];
    backend.onChange((name) => changes.push(name));
    await backend.provision(fixtureSpec('echo', { env: { GREETING: 'from-spec' } }));
    expect(backend.status('echo').state).toBe('PENDING');
    await backend.waitReady('echo', 10_000);

    const [endpoint] = backend.endpoints('echo');
    expect(endpoint?.ready).toBe(true);
    // Each replica with its endpoint, as GET /v1/functions/{name} shows it.
    expect(backend.status('echo')).toEqual({
      state: 'READY',
      replicas: 1,
      readyReplicas: 1,
      instances: [{ index: 0, ready: true, url: endpoint?.url, restarts: 0 }],
    });
    expect(endpoint?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(changes).toContain('echo');

    const out = await invoke(endpoint!.url, { hello: 'world' });
    expect(out.input).toEqual({ hello: 'world' });
    expect(out.handler).toBe('handlers/echo.js');
    expect(out.cwd).toBe(root);
    // An explicit, minimal environment: nothing else of the control plane's reaches the child.
    expect(out.env).toEqual({
      PATH: process.env.PATH,
      HOME: asRoot ? '/nonexistent' : process.env.HOME,
      LANG: 'C.UTF-8',
      PORT: endpoint!.url.split(':')[2],
      FUNCTION_NAME: 'echo',
      TIMEOUT_MS: '5000',
      HANDLER: 'handlers/echo.js',
      EXECUTION_MODE: 'HTTP',
      CALLBACK_URL: 'http://127.0.0.1:1/v1/internal/executions',
      CALLBACK_TOKEN: 'callback-credential-of-echo',
      NANOFAAS_PARENT_PIPE: 'stdin',
      NANOFAAS_OWNER_STATE_DIR: stateDir,
      GREETING: 'from-spec',
    });
    expect(out.stdinIsPipe).toBe(true);
    // As root, functions run as nobody by default.
    if (asRoot) expect([out.uid, out.gid]).toEqual([65534, 65534]);
    else expect(out.uid).toBe(process.getuid!());
    // The child runs in its own process group (detached), so group kills reach its children.
    expect(Number((await readFile(`/proc/${out.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[2])).toBe(out.pid);

    const log = await readFile(path.join(stateDir, 'logs', 'fn-echo.log'), 'utf8');
    expect(log).toContain(`replica 0 pid ${out.pid}`);
    expect(log).toContain(`fixture listening on ${out.env.PORT}`);
  });

  it('restarts a replica killed with SIGKILL and reports not-ready meanwhile', async () => {
    const { backend } = await newBackend();
    await backend.provision(fixtureSpec('crashy'));
    await backend.waitReady('crashy', 10_000);
    const [before] = await readyPids(backend, 'crashy');

    const sawNotReady = waitFor(backend, () => backend.status('crashy').readyReplicas === 0, 5_000, 'not ready');
    process.kill(before!, 'SIGKILL');
    await sawNotReady;
    expect(backend.status('crashy').state).not.toBe('READY');

    await waitFor(backend, () => backend.status('crashy').state === 'READY', 10_000, 'ready again');
    const [after] = await readyPids(backend, 'crashy');
    expect(after).not.toBe(before);
    expect(isAlive(before!)).toBe(false);
    // The restart is counted and the crash kept as the replica's last error after it recovered.
    const [replica] = backend.status('crashy').instances ?? [];
    expect(replica).toMatchObject({ index: 0, ready: true, restarts: 1, lastError: { message: 'replica 0 crashed (signal SIGKILL)' } });
    expect(Date.now() - Date.parse(replica?.lastError?.at ?? '')).toBeLessThan(60_000);
  });

  it('backs off exponentially between quick crashes and resets after a stable run', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    stateDirs.push(stateDir);
    const delays: number[] = [];
    const logger = {
      ...silentLogger,
      warn: (obj: object | string) => {
        if (typeof obj === 'object' && 'restartInMs' in obj) delays.push(obj.restartInMs as number);
      },
    };
    const backend = createProcessBackend({
      rootDir: root,
      stateDir,
      logger,
      restart: { initialDelayMs: 50, maxDelayMs: 400, stableMs: 300 },
    });
    backends.push(backend);
    await backend.provision(fixtureSpec('flappy'));
    const crashAndRecover = async () => {
      await backend.waitReady('flappy', 10_000);
      const [pid] = await readyPids(backend, 'flappy');
      const down = waitFor(backend, () => backend.status('flappy').readyReplicas === 0, 5_000, 'down');
      process.kill(pid!, 'SIGKILL');
      await down;
    };
    await crashAndRecover();
    await crashAndRecover();
    await crashAndRecover();
    await backend.waitReady('flappy', 10_000); // the restart delay has been logged by then
    expect(delays).toEqual([50, 100, 200]);
    await new Promise((r) => setTimeout(r, 400)); // longer than stableMs
    await crashAndRecover();
    await backend.waitReady('flappy', 10_000);
    expect(delays).toEqual([50, 100, 200, 50]);
  });

  it('scales up and down; removed replicas are stopped', async () => {
    const { backend } = await newBackend();
    await backend.provision(fixtureSpec('scaled'));
    await backend.waitReady('scaled', 10_000);

    await backend.scale('scaled', 3);
    expect(backend.status('scaled').replicas).toBe(3);
    await waitFor(backend, () => backend.status('scaled').readyReplicas === 3, 15_000, '3 ready');
    const three = await readyPids(backend, 'scaled');
    expect(new Set(three).size).toBe(3);
    expect(new Set(backend.endpoints('scaled').map((e) => e.url)).size).toBe(3);

    await backend.scale('scaled', 1);
    expect(backend.status('scaled')).toMatchObject({
      state: 'READY',
      replicas: 1,
      readyReplicas: 1,
      instances: [{ index: 0, ready: true }],
    });
    const one = await readyPids(backend, 'scaled');
    expect(one).toHaveLength(1);
    for (const pid of three.filter((p) => !one.includes(p))) expect(isAlive(pid)).toBe(false);

    await backend.scale('scaled', 0);
    expect(backend.endpoints('scaled')).toEqual([]);
    expect(isAlive(one[0]!)).toBe(false);
    await expect(backend.scale('nope', 1)).rejects.toMatchObject({ code: 'FUNCTION_NOT_FOUND' });
  });

  it('deprovision stops the whole process group, grandchildren included', async () => {
    const { backend } = await newBackend();
    await backend.provision(fixtureSpec('family', { env: { FIXTURE_GRANDCHILD: '1' } }));
    await backend.waitReady('family', 10_000);
    const out = await invoke(backend.endpoints('family')[0]!.url, 1);
    expect(out.grandchildPid).toBeGreaterThan(0);
    expect(isAlive(out.pid) && isAlive(out.grandchildPid!)).toBe(true);

    await backend.deprovision('family');
    expect(isAlive(out.pid)).toBe(false);
    expect(await waitGone(out.grandchildPid!)).toBe(true);
    expect(backend.endpoints('family')).toEqual([]);
    expect(backend.status('family').state).toBe('FAILED');
    await backend.deprovision('family'); // unknown name: no-op
  });

  it('SIGKILLs a runtime that ignores SIGTERM after the grace period', async () => {
    const { backend } = await newBackend({ stopGraceMs: 300 });
    await backend.provision(fixtureSpec('stubborn', { env: { FIXTURE_IGNORE_SIGTERM: '1' } }));
    await backend.waitReady('stubborn', 10_000);
    const [pid] = await readyPids(backend, 'stubborn');
    const started = Date.now();
    await backend.deprovision('stubborn');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(isAlive(pid!)).toBe(false);
  });

  it('same spec again is a no-op; a changed spec replaces the processes', async () => {
    const { backend } = await newBackend();
    await backend.provision(fixtureSpec('versioned'));
    await backend.waitReady('versioned', 10_000);
    const [first] = await readyPids(backend, 'versioned');

    await backend.provision(fixtureSpec('versioned'));
    expect(await readyPids(backend, 'versioned')).toEqual([first]);

    await backend.provision(fixtureSpec('versioned', { env: { GREETING: 'v2' } }));
    expect(isAlive(first!)).toBe(false);
    await backend.waitReady('versioned', 10_000);
    const out = await invoke(backend.endpoints('versioned')[0]!.url, null);
    expect(out.pid).not.toBe(first);
    expect(out.env.GREETING).toBe('v2');

    // Only the replica count changed: scale, keep the running process.
    await backend.provision(fixtureSpec('versioned', { env: { GREETING: 'v2' }, replicas: 2 }));
    expect(backend.status('versioned').replicas).toBe(2);
    expect(isAlive(out.pid)).toBe(true);
  });

  it('marks a runtime that exits at startup FAILED with the log tail, and waitReady rejects', async () => {
    const { backend, stateDir } = await newBackend();
    await backend.provision(fixtureSpec('broken', { env: { FIXTURE_EXIT_AT_START: '1' } }));
    await expect(backend.waitReady('broken', 10_000)).rejects.toThrow(/exited \(code 3\).*boom: cannot load handler handlers\/echo\.js/s);
    const status = backend.status('broken');
    expect(status.state).toBe('FAILED');
    expect(status.message).toBe('replica 0 exited (code 3) before /health answered 200: boom: cannot load handler handlers/echo.js');
    expect(status.logTail).toEqual(['boom: cannot load handler handlers/echo.js']);
    expect(status.logPath).toBe(path.join(stateDir, 'logs', 'fn-broken.log'));
  });

  it('a failed start shows only its own output: neither earlier runs nor the run headers', async () => {
    const { backend, stateDir } = await newBackend();
    const logFile = path.join(stateDir, 'logs', 'fn-again.log');
    await mkdir(path.dirname(logFile), { recursive: true });
    await writeFile(logFile, 'an earlier run said this\n');
    await backend.provision(fixtureSpec('again', { env: { FIXTURE_EXIT_AT_START: '1' } }));
    // Wait for the restarts to have written the error at least three times.
    await waitFor(
      backend,
      () => (backend.status('again').message ?? '').length > 0 && countBooms(logFile) >= 3,
      10_000,
      'three failed starts',
    );
    const status = backend.status('again');
    expect(status.state).toBe('FAILED');
    expect(status.message).not.toContain('\n');
    expect(status.logTail).toEqual(['boom: cannot load handler handlers/echo.js']);
  });

  it('gives up on a runtime whose /health never answers 200 and kills it', async () => {
    const { backend } = await newBackend({ startupTimeoutMs: 400 });
    const pidFile = path.join(await sharedTempDir('nf-pids-'), 'pids');
    stateDirs.push(path.dirname(pidFile));
    await backend.provision(fixtureSpec('sick', { env: { FIXTURE_NEVER_HEALTHY: '1', FIXTURE_PID_FILE: pidFile } }));
    await expect(backend.waitReady('sick', 10_000)).rejects.toThrow(/did not answer 200 within 400 ms/);
    expect(backend.status('sick').state).toBe('FAILED');
    const [firstPid] = await recordedPids(pidFile);
    expect(isAlive(firstPid!)).toBe(false);
  });

  it('waitReady times out with a clear error, and rejects for unknown functions', async () => {
    const { backend } = await newBackend();
    await backend.provision(fixtureSpec('slow', { env: { FIXTURE_HEALTH_DELAY_MS: '60000' } }));
    await expect(backend.waitReady('slow', 200)).rejects.toThrow('function "slow" not ready within 200 ms');
    await expect(backend.waitReady('ghost', 200)).rejects.toThrow(/"ghost" is not provisioned/);
  });

  it('fails provisioning when a required binary is missing, naming it and the hint', async () => {
    const otherRoot = await makeFixtureRoot([{ bin: 'nanofaas-no-such-binary', hint: 'install it with apt' }]);
    stateDirs.push(otherRoot);
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    stateDirs.push(stateDir);
    const backend = createProcessBackend({ rootDir: otherRoot, stateDir, logger: silentLogger });
    backends.push(backend);
    await expect(backend.provision(fixtureSpec('needy'))).rejects.toThrow(
      'cannot launch function "needy": missing "nanofaas-no-such-binary" (install it with apt)',
    );
    await expect(backend.provision(fixtureSpec('pyfn', { runtime: 'python' }))).rejects.toThrow(
      /runtime "python" has no launch descriptor/,
    );
    await expect(backend.provision(fixtureSpec('nothing', { runtime: undefined }))).rejects.toThrow(/neither "runtime" nor "command"/);
    expect(backend.endpoints('needy')).toEqual([]);
  });

  it('runs spec.command when the spec has no runtime', async () => {
    const { backend } = await newBackend();
    await backend.provision(
      fixtureSpec('custom', {
        runtime: undefined,
        handler: undefined,
        command: [process.execPath, path.join(import.meta.dirname, 'fixtures', 'runtime.mjs'), 'argv-handler'],
      }),
    );
    await backend.waitReady('custom', 10_000);
    const out = await invoke(backend.endpoints('custom')[0]!.url, 2);
    expect(out.handler).toBe('argv-handler');
    expect(out.env.FUNCTION_NAME).toBe('custom');
  });

  it('close() stops every process of every function', async () => {
    const { backend } = await newBackend();
    await Promise.all([backend.provision(fixtureSpec('a', { replicas: 2 })), backend.provision(fixtureSpec('b'))]);
    await waitFor(
      backend,
      () => backend.status('a').readyReplicas === 2 && backend.status('b').readyReplicas === 1,
      15_000,
      'a and b ready',
    );
    const pids = [...(await readyPids(backend, 'a')), ...(await readyPids(backend, 'b'))];
    expect(pids).toHaveLength(3);
    expect(await backend.healthy()).toBe(true);

    await backend.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(await backend.healthy()).toBe(false);
    await expect(backend.provision(fixtureSpec('late'))).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('kills process groups left behind by a control plane that died without close()', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    stateDirs.push(stateDir);
    // An orphan: its own process group, recorded by an owner that no longer exists.
    const orphan = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    orphan.unref();
    const deadOwner = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => deadOwner.once('exit', r));
    await mkdir(path.join(stateDir, 'run'), { recursive: true });
    const record = {
      ownerPid: deadOwner.pid,
      ownerStart: '1',
      children: [{ pid: orphan.pid, start: await processStartTime(orphan.pid!) }],
    };
    await writeFile(path.join(stateDir, 'run', `process-backend-${deadOwner.pid}.json`), JSON.stringify(record));
    // A record of a live owner (this test process) must be left alone.
    const survivor = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const liveRecord = {
      ownerPid: process.ppid,
      ownerStart: await processStartTime(process.ppid),
      children: [{ pid: survivor.pid, start: await processStartTime(survivor.pid!) }],
    };
    await writeFile(path.join(stateDir, 'run', `process-backend-${process.ppid}.json`), JSON.stringify(liveRecord));
    try {
      const backend = createProcessBackend({ rootDir: root, stateDir, logger: silentLogger });
      backends.push(backend);
      await backend.provision(fixtureSpec('after-crash')); // provisioning waits for the reaping
      expect(await waitGone(orphan.pid!)).toBe(true);
      expect(isAlive(survivor.pid!)).toBe(true);
    } finally {
      orphan.kill('SIGKILL');
      survivor.kill('SIGKILL');
    }
  });

  it('reaps a recorded group whose leader died but whose members live on; leaves a reused pid alone', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nf-state-'));
    stateDirs.push(stateDir);
    // A group leader that starts a member, then exits when told to (stdin closes): the member
    // stays in the group, its leader gone, as after a runtime killed on its own.
    const leader = spawn('sh', ['-c', 'sleep 1000 & echo $!; read _'], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    const memberPid = await new Promise<number>((resolve) => leader.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const leaderStart = await processStartTime(leader.pid!);
    const leaderGone = new Promise((r) => leader.once('exit', r));
    leader.stdin!.end();
    await leaderGone;
    expect(isAlive(memberPid)).toBe(true);
    // A live process whose pid is recorded with another start time: the pid was reused, not ours.
    const stranger = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const deadOwner = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => deadOwner.once('exit', r));
    await mkdir(path.join(stateDir, 'run'), { recursive: true });
    const record = {
      ownerPid: deadOwner.pid,
      ownerStart: '1',
      children: [
        { pid: leader.pid, start: leaderStart },
        { pid: stranger.pid, start: '1' },
      ],
    };
    await writeFile(path.join(stateDir, 'run', `process-backend-${deadOwner.pid}.json`), JSON.stringify(record));
    try {
      const backend = createProcessBackend({ rootDir: root, stateDir, logger: silentLogger });
      backends.push(backend);
      await backend.provision(fixtureSpec('after-crash'));
      expect(await waitGone(memberPid)).toBe(true);
      expect(isAlive(stranger.pid!)).toBe(true);
    } finally {
      try {
        process.kill(memberPid, 'SIGKILL');
      } catch {
        // reaped, as it should be
      }
      stranger.kill('SIGKILL');
    }
  });
});

function countBooms(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('boom: cannot load handler').length - 1;
  } catch {
    return 0;
  }
}
