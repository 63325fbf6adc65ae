/**
 * Every process a runtime starts dies with it (docs/design.md §4.4), with the real watchdog running
 * `sleep <token>` commands: a runtime SIGKILL, a function DELETE, a control-plane SIGTERM with work
 * queued, a control-plane SIGKILL (the runtimes go by themselves) followed by a restart on the same
 * state directory, and an HTTP-mode command that never listens, restarted again and again. Each
 * test finds leftovers by its own token in /proc and ends with none.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import type { WorkloadBackend } from '../../control-plane/src/workloads/backend.js';
import { createProcessBackend } from '../../control-plane/src/workloads/process/index.js';
import { repoRoot } from '../conformance/harness.js';
import { call, startControlPlane, until, type RunningControlPlane } from '../control-plane/helpers.js';
import { silentLogger, waitFor } from './helpers.js';
import { killMarked, listing, marked, uniqueToken, untilCount, untilNone } from './marked.js';

const tokens: string[] = [];
const dirs: string[] = [];
const backends: WorkloadBackend[] = [];
const planes: RunningControlPlane[] = [];

function newToken(): string {
  const token = uniqueToken();
  tokens.push(token);
  return token;
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  for (const cp of planes) {
    if (cp.child.exitCode === null && cp.child.signalCode === null) cp.child.kill('SIGKILL');
    await cp.exited;
  }
  for (const token of tokens) killMarked(token);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** An exec function whose command is `sleep <token>`; its processes all carry the token. */
function sleeper(name: string, token: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    runtime: 'exec',
    runtimeMode: 'STDIO',
    handler: `sleep ${token}`,
    timeoutMs: 120_000,
    concurrency: 2,
    queueSize: 100,
    maxRetries: 0,
    executionMode: 'LOCAL',
    replicas: 1,
    ...overrides,
    // The runtime carries the token in its environment, its commands in their argv (and env).
    env: { LEAK_TOKEN: token, WATCHDOG_CONCURRENCY: '2', ...overrides.env },
  };
}

const everything = (token: string) => () => marked(token, 'argv+env');
const commands = (token: string) => () => marked(token, 'argv');

function parentOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/stat`, 'latin1').then((stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
}

describe('process backend with the real watchdog', () => {
  async function backendOnRepo(extra: { startupTimeoutMs?: number; stopGraceMs?: number } = {}) {
    const backend = createProcessBackend({
      rootDir: repoRoot,
      stateDir: await tempDir('nf-leaks-state-'),
      logger: silentLogger,
      startupTimeoutMs: extra.startupTimeoutMs ?? 20_000,
      stopGraceMs: extra.stopGraceMs ?? 1_000,
      restart: { initialDelayMs: 50, maxDelayMs: 200, stableMs: 60_000 },
    });
    backends.push(backend);
    return backend;
  }

  it('a SIGKILLed watchdog leaves none of its running commands behind once the backend noticed', async () => {
    const token = newToken();
    const backend = await backendOnRepo();
    await backend.provision(sleeper('sleeper', token));
    await backend.waitReady('sleeper', 20_000);
    const url = backend.endpoints('sleeper')[0]!.url;
    const body = JSON.stringify({ input: null, metadata: {} });
    const calls = [1, 2].map(() =>
      request(`${url}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((err: Error) => err),
    );
    const running = await untilCount(commands(token), 2, 'running sleep commands');
    const watchdogPid = await parentOf(running[0]!.pid);
    expect(await parentOf(running[1]!.pid)).toBe(watchdogPid);

    const noticed = waitFor(backend, () => backend.status('sleeper').readyReplicas === 0, 10_000, 'the replica to be down');
    process.kill(watchdogPid, 'SIGKILL');
    await noticed;
    await Promise.all(calls);
    const left = await untilNone(commands(token));
    expect(left, `left after the watchdog was killed: ${listing(left)}`).toEqual([]);

    await backend.close();
    expect(await untilNone(everything(token)), 'left after close()').toEqual([]);
  });

  it('an HTTP-mode command that never listens does not pile up over restarts', async () => {
    const token = newToken();
    // Each start attempt: the watchdog starts `sleep`, which never listens; the backend gives up
    // on the replica after 2.5 s and starts another.
    const backend = await backendOnRepo({ startupTimeoutMs: 2_500, stopGraceMs: 300 });
    await backend.provision(sleeper('deaf', token, { runtimeMode: 'HTTP' }));
    // Commands in the order their attempts started them.
    const seen = new Set<number>();
    await until(
      () => {
        for (const p of commands(token)()) seen.add(p.pid);
        return seen.size >= 3;
      },
      60_000,
      'three start attempts to have run their command',
    );
    const abandoned = new Set([...seen].slice(0, -1));
    const left = await untilNone(() => commands(token)().filter((p) => abandoned.has(p.pid)));
    expect(left, `commands of abandoned attempts still running: ${listing(left)}`).toEqual([]);
    expect(commands(token)().length).toBeLessThanOrEqual(1);

    await backend.close();
    expect(await untilNone(everything(token)), 'left after close()').toEqual([]);
  }, 90_000);
});

describe('the control plane with exec functions', () => {
  /** Short grace periods, so every stop ends within about a second. */
  async function controlPlane(stateDir: string, env: Record<string, string> = {}) {
    const cp = await startControlPlane(
      { NANOFAAS_SHUTDOWN_GRACE_MS: '400', NANOFAAS_PROCESS_STOP_GRACE_MS: '400', NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: '20000', ...env },
      stateDir,
    );
    planes.push(cp);
    return cp;
  }

  async function register(base: string, spec: FunctionSpec): Promise<void> {
    const reply = await call(base, 'POST', '/v1/functions', spec);
    expect(reply.status, reply.text).toBe(201);
    await until(
      async () => (await call(base, 'GET', `/v1/functions/${spec.name}`)).body?.status?.state === 'READY',
      20_000,
      `${spec.name} READY`,
    );
  }

  async function enqueue(base: string, name: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const reply = await call(base, 'POST', `/v1/functions/${name}:enqueue`, { input: { i } });
      expect(reply.status, reply.text).toBe(202);
    }
  }

  it('DELETE of a function, then SIGTERM of the control plane with work queued, leave nothing running', async () => {
    const deleted = newToken();
    const queued = newToken();
    const stateDir = await tempDir('nf-leaks-cp-');
    const cp = await controlPlane(stateDir);
    await register(cp.apiUrl, sleeper('deleted', deleted));
    await register(cp.apiUrl, sleeper('queued', queued));
    await enqueue(cp.apiUrl, 'deleted', 2);
    await enqueue(cp.apiUrl, 'queued', 4); // two run, two wait in the queue
    await untilCount(commands(deleted), 2, 'running commands of "deleted"');
    await untilCount(commands(queued), 2, 'running commands of "queued"');

    const reply = await call(cp.apiUrl, 'DELETE', '/v1/functions/deleted');
    expect(reply.status, reply.text).toBeLessThan(300);
    const afterDelete = await untilNone(everything(deleted));
    expect(afterDelete, `left after DELETE: ${listing(afterDelete)}`).toEqual([]);
    expect(commands(queued)(), 'the other function is untouched').toHaveLength(2);

    expect(await cp.stop('SIGTERM')).toBe(0);
    const afterStop = await untilNone(everything(queued));
    expect(afterStop, `left after SIGTERM: ${listing(afterStop)}`).toEqual([]);
  }, 90_000);

  it('after a SIGKILL of the control plane its runtimes and commands exit by themselves; a restart leaves nothing', async () => {
    const token = newToken();
    const stateDir = await tempDir('nf-leaks-cp-');
    const cp = await controlPlane(stateDir);
    await register(cp.apiUrl, sleeper('orphaned', token, { replicas: 2 }));
    await enqueue(cp.apiUrl, 'orphaned', 5);
    await untilCount(commands(token), 2, 'running sleep commands');
    const first = everything(token)();
    expect(first.length, listing(first)).toBeGreaterThanOrEqual(4); // 2 watchdogs + their commands

    cp.child.kill('SIGKILL');
    await cp.exited;
    const orphans = await untilNone(everything(token));
    expect.soft(orphans, `left after the control plane died: ${listing(orphans)}`).toEqual([]);

    // The function comes back from the state directory; the first generation must not.
    const restarted = await controlPlane(stateDir);
    await until(
      async () => (await call(restarted.apiUrl, 'GET', '/v1/functions/orphaned')).body?.status?.state === 'READY',
      20_000,
      'READY again',
    );
    const firstPids = new Set(first.map((p) => p.pid));
    const stale = await untilNone(() => everything(token)().filter((p) => firstPids.has(p.pid)));
    expect(stale, `first generation still running after the restart: ${listing(stale)}`).toEqual([]);

    expect(await restarted.stop('SIGTERM')).toBe(0);
    const left = await untilNone(everything(token));
    expect(left, listing(left)).toEqual([]);
  }, 90_000);
});
