/**
 * Runtime contract: NANOFAAS_PARENT_PIPE=stdin. The control plane holds the write end of the
 * runtime's stdin and never writes; when it goes (even by SIGKILL) the pipe reaches EOF and the
 * runtime must stop at once, taking everything it started with it. Each runtime is started
 * detached (the leader of its own group) the way the process backend starts it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/process.js';
import { postJson, waitForHealth } from '../conformance/harness.js';
import { kill, launch, RUNTIME_NAMES, type Launched } from './launch.js';

let dir: string;
let fifo: string | undefined;
const started: Launched[] = [];
const leftovers: number[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'parent-pipe-'));
});
afterAll(async () => {
  await Promise.all(started.map((l) => kill(l, true)));
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  // A reader still blocked opening the FIFO (the command never started) would hold a libuv thread.
  if (fifo) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting
    }
  }
  await rm(dir, { recursive: true, force: true });
});

async function startWithPipe(
  runtime: (typeof RUNTIME_NAMES)[number],
  env: Record<string, string> = {},
): Promise<{ l: Launched; url: string }> {
  const port = await getPort({ host: '127.0.0.1' });
  const l = launch(runtime, { PORT: String(port), NANOFAAS_PARENT_PIPE: 'stdin', ...env }, { stdin: 'pipe', detached: true });
  started.push(l);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, l.child, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${l.stderr()}`);
  });
  return { l, url };
}

describe.each(RUNTIME_NAMES)('%s runtime with NANOFAAS_PARENT_PIPE=stdin', (runtime) => {
  it('stops at once when its stdin reaches EOF, with a log line saying why', async () => {
    const { l } = await startWithPipe(runtime);
    l.child.stdin!.end();
    const exit = await l.exited;
    // node and python SIGKILL their own group; java halts with 1 after destroying its descendants.
    expect(exit).toEqual(runtime === 'java' ? { code: 1, signal: null } : { code: null, signal: 'SIGKILL' });
    expect(l.stderr()).toMatch(/control plane gone/);
  });

  it('ignores anything written to the pipe and keeps serving', async () => {
    const { l, url } = await startWithPipe(runtime);
    l.child.stdin!.write('noise\n'.repeat(1000));
    const res = await postJson(`${url}/invoke`, { input: 'a b a' });
    expect(res.status).toBe(200);
    expect(l.child.exitCode).toBeNull();
    expect(l.child.signalCode).toBeNull();
  });
});

describe.each(RUNTIME_NAMES)('%s runtime without NANOFAAS_PARENT_PIPE', (runtime) => {
  it('does not watch stdin: EOF on it changes nothing', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const l = launch(runtime, { PORT: String(port) }, { stdin: 'pipe', detached: true });
    started.push(l);
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, l.child, 30_000);
    l.child.stdin!.end();
    // A full invocation round trip after the EOF: a runtime reacting to it would be gone by then.
    const res = await postJson(`${url}/invoke`, { input: 'a b a' });
    expect(res.status).toBe(200);
    expect(l.child.exitCode).toBeNull();
    await kill(l, true);
  });
});

describe('watchdog losing its control plane', () => {
  it('takes a running command with it', async () => {
    // The command reports its pid through a FIFO (an event, no polling), then becomes `sleep 600`.
    const pipePath = path.join(dir, 'pid.fifo');
    execFileSync('mkfifo', [pipePath]);
    fifo = pipePath;
    const pidLine = new Promise<number>((resolve, reject) => {
      let text = '';
      createReadStream(pipePath)
        .on('data', (c) => (text += c.toString()))
        .on('end', () => resolve(Number(text.trim())))
        .on('error', reject);
    });
    const { l, url } = await startWithPipe('watchdog', {
      EXECUTION_MODE: 'STDIO',
      TIMEOUT_MS: '600000',
      WATCHDOG_CMD: JSON.stringify(['bash', '-c', `echo $$ > ${pipePath}; exec sleep 600`]),
    });
    const pending = postJson(`${url}/invoke`, { input: {} }).catch((err: Error) => err);
    const pid = await pidLine;
    leftovers.push(pid);
    expect(isAlive(pid)).toBe(true);

    l.child.stdin!.end();
    expect(await l.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // One kill(2) signalled the whole group; the command may still be on its way out (or a zombie
    // waiting for PID 1), so look again briefly before calling it a leak.
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pid)).toBe(false);
    expect(await pending).toBeInstanceOf(Error);
  });
});
