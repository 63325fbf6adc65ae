/**
 * The watchdog as a real process (runtimes/watchdog/dist/main.js) in each mode, with small commands
 * written to a temp dir: argv without a shell, exit-code mapping, bad output, spawn failure,
 * process-group kill at TIMEOUT_MS, STREAM order and restart, the concurrency bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isAlive } from '../../src/util/process.js';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter, parseCommand } from '@nanofaas/runtime-watchdog';
import { httpExecutor } from '../../runtimes/watchdog/src/modes/http.js';
import { postJson, repoRoot, waitForHealth } from '../conformance/harness.js';
import { killMarked, listing, marked, uniqueToken, untilCount, untilNone } from '../process-backend/marked.js';

let dir: string;
const started: ChildProcess[] = [];
// Commands of the leak tests run `sleep <token>`: a duration nothing else uses, found in /proc.
const tokens: string[] = [];
function newToken(): string {
  const token = uniqueToken();
  tokens.push(token);
  return token;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'watchdog-test-'));
});
afterAll(async () => {
  await Promise.all(started.map(stop));
  for (const token of tokens) killMarked(token);
  await rm(dir, { recursive: true, force: true });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function watchdog(
  env: Record<string, string>,
  options: { detached?: boolean; onStart?: (child: ChildProcess) => void } = {},
): Promise<string> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = spawn(process.execPath, ['runtimes/watchdog/dist/main.js'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), FUNCTION_NAME: 'wd-test', TIMEOUT_MS: '5000', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    // As the process backend starts it: leader of its own process group.
    detached: options.detached ?? false,
  });
  options.onStart?.(child);
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 15_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  return url;
}

async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, body, { mode: 0o755 });
  return file;
}

const invoke = (url: string, input: unknown) => postJson(`${url}/invoke`, { input, metadata: { m: '1' } }, { 'x-execution-id': 'exec-1' });

// A zombie counts as gone: a killed grandchild is reparented to PID 1, which may reap it late.
const alive = (pid: number): boolean => isAlive(pid);

describe('WATCHDOG_CMD parsing', () => {
  it('takes a JSON array as argv and splits a plain string on whitespace, without any shell rules', () => {
    expect(parseCommand('["node","-e","x y","$HOME"]')).toEqual(['node', '-e', 'x y', '$HOME']);
    expect(parseCommand('  bash  functions/a.sh\t--flag ')).toEqual(['bash', 'functions/a.sh', '--flag']);
    expect(parseCommand('echo "a b" | cat')).toEqual(['echo', '"a', 'b"', '|', 'cat']);
  });
  it('rejects an empty command and a malformed JSON array with a clear message', () => {
    expect(() => parseCommand('')).toThrow(/WATCHDOG_CMD/);
    expect(() => parseCommand('["a",')).toThrow(/does not parse/);
    expect(() => parseCommand('[1]')).toThrow(/non-empty array of non-empty strings/);
  });
});

describe('concurrency limiter', () => {
  it('never runs more than the limit and starts waiters in FIFO order', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        order.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
      }),
    );
    for (let done = 0; done < 5; done++) {
      await new Promise((r) => setImmediate(r));
      releases.shift()!();
    }
    await Promise.all(tasks);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
  it('drops a waiter whose signal aborts', async () => {
    const limiter = createLimiter(1);
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const second = limiter.run(async () => 'ran', controller.signal);
    controller.abort(new Error('deadline'));
    await expect(second).rejects.toThrow('deadline');
    expect(limiter.waiting).toBe(0);
    release();
    await first;
  });
});

describe('STDIO mode', () => {
  let url: string;
  beforeAll(async () => {
    // One node script steered by its input, so each case is one request.
    const file = await script(
      'steer.mjs',
      `let text = '';
process.stdin.on('data', (c) => (text += c));
process.stdin.on('end', () => {
  const input = JSON.parse(text);
  if (input.mode === 'echo') process.stdout.write(JSON.stringify({ input, argv: process.argv.slice(2), executionId: process.env.NANOFAAS_EXECUTION_ID, metadata: JSON.parse(process.env.NANOFAAS_METADATA) }));
  if (input.mode === 'reject') { process.stderr.write('no good: ' + input.why); process.exit(65); }
  if (input.mode === 'garbage') process.stdout.write('this is not json');
  if (input.mode === 'fail') { process.stderr.write('x'.repeat(10000) + 'the end of stderr'); process.exit(7); }
});
`,
    );
    url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: JSON.stringify([process.execPath, file, 'a b', '$HOME', '*', ';ls']) });
  });

  it('passes the input JSON on stdin, argv verbatim (no shell) and the execution id in env', async () => {
    const res = await invoke(url, { mode: 'echo', n: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      input: { mode: 'echo', n: 1 },
      argv: ['a b', '$HOME', '*', ';ls'],
      executionId: 'exec-1',
      metadata: { m: '1' },
    });
  });
  it('maps exit 65 to 400 INVALID_INPUT with the stderr text', async () => {
    const res = await invoke(url, { mode: 'reject', why: 'bad field' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'INVALID_INPUT', message: 'no good: bad field' });
  });
  it('maps non-JSON stdout to 500 FUNCTION_ERROR', async () => {
    const res = await invoke(url, { mode: 'garbage' });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'FUNCTION_ERROR', message: expect.stringContaining('not JSON: this is not json') });
  });
  it('maps another exit code to 500 FUNCTION_ERROR with the exit code and the stderr tail', async () => {
    const res = await invoke(url, { mode: 'fail' });
    expect(res.status).toBe(500);
    const message = (res.body as { message: string }).message;
    expect(message).toMatch(/^the command exited with code 7: x+the end of stderr$/);
    expect(message.length).toBeLessThan(4200);
  });
  it('maps empty stdout with exit 0 to 500 FUNCTION_ERROR', async () => {
    const res = await invoke(url, { mode: 'silent' });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'FUNCTION_ERROR', message: 'the command wrote nothing to stdout' });
  });
});

describe('STDIO failures', () => {
  it('answers 500 with a clear message when the command cannot be started', async () => {
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: '/nonexistent/definitely-not-here --x' });
    const res = await invoke(url, {});
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'FUNCTION_ERROR', message: 'cannot start the command "/nonexistent/definitely-not-here": ENOENT' });
  });

  it('kills the command and its background children at TIMEOUT_MS and answers 504', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const file = await script('hang.sh', `#!/usr/bin/env bash\nsleep 60 &\necho $! > "${pidFile}"\nwait\n`);
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `bash ${file}`, TIMEOUT_MS: '700' });
    const res = await invoke(url, {});
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ error: 'TIMEOUT' });
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(0);
    // SIGKILL delivery is asynchronous; give the kernel a moment to reap.
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });

  it('kills the command tree at TIMEOUT_MS, a child that left the process group with setsid included', async () => {
    const token = newToken();
    const pidFile = path.join(dir, 'escaped.pid');
    const file = await script('escape.sh', `#!/usr/bin/env bash\nsetsid sleep ${token} &\necho $! > "${pidFile}"\nwait\n`);
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `bash ${file}`, TIMEOUT_MS: '700' });
    const res = await invoke(url, {});
    expect(res.status).toBe(504);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(0);
    const left = await untilNone(() => marked(token).filter((p) => p.pid === pid));
    expect(left, listing(left)).toEqual([]);
  });

  it("runs commands in its own process group: a SIGKILLed watchdog's group kill leaves no command behind", async () => {
    const token = newToken();
    let wd!: ChildProcess;
    const url = await watchdog(
      { EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `sleep ${token}`, WATCHDOG_CONCURRENCY: '2', TIMEOUT_MS: '120000' },
      { detached: true, onStart: (child) => (wd = child) },
    );
    const calls = [invoke(url, {}), invoke(url, {})].map((p) => p.catch((err: Error) => err));
    await untilCount(() => marked(token), 2, 'running sleep commands');
    const exited = new Promise((resolve) => wd.once('exit', resolve));
    wd.kill('SIGKILL');
    await exited;
    await Promise.all(calls);
    // What the process backend does when a replica's leader exits, whatever the reason.
    try {
      process.kill(-wd.pid!, 'SIGKILL');
    } catch {
      // ESRCH: nothing of the group is left
    }
    const left = await untilNone(() => marked(token));
    expect(left, listing(left)).toEqual([]);
  });

  it('runs at most WATCHDOG_CONCURRENCY invocations at once', async () => {
    const slots = path.join(dir, 'slots');
    const file = await script(
      'slot.mjs',
      `import { mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
mkdirSync(${JSON.stringify(slots)}, { recursive: true });
const mine = ${JSON.stringify(slots)} + '/' + process.pid;
writeFileSync(mine, '');
// Hold the slot until a second command has been seen (or 3 s), so a loaded machine that starts
// them slowly still overlaps two; report the most commands seen at once.
const started = Date.now();
let seen = 0;
const tick = () => {
  seen = Math.max(seen, readdirSync(${JSON.stringify(slots)}).length);
  const held = Date.now() - started;
  if ((seen >= 2 && held >= 250) || held >= 3000) { rmSync(mine); process.stdout.write(JSON.stringify({ seen })); }
  else setTimeout(tick, 20);
};
tick();
`,
    );
    const url = await watchdog({
      EXECUTION_MODE: 'STDIO',
      WATCHDOG_CMD: JSON.stringify([process.execPath, file]),
      WATCHDOG_CONCURRENCY: '2',
      // Queueing counts against TIMEOUT_MS: six node starts two at a time can pass 5 s on a loaded machine.
      TIMEOUT_MS: '60000',
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => invoke(url, {})));
    const seen = results.map((r) => (r.body as { seen: number }).seen);
    expect(
      results.map((r) => r.status),
      results.map((r) => r.text).join('\n'),
    ).toEqual([200, 200, 200, 200, 200, 200]);
    expect(Math.max(...seen)).toBe(2);
  });
});

describe('STDIO with WATCHDOG_PRESPAWN', () => {
  // Reads its whole stdin, then answers with its pid, its input and the execution id it was given.
  const reader = () =>
    script(
      'spare.sh',
      `#!/usr/bin/env bash\nIFS= read -r -d '' input\nprintf '{"pid":%d,"input":%s,"executionId":"%s"}' $$ "$input" "\${NANOFAAS_EXECUTION_ID:-}"\n`,
    );

  it('answers each call from a process started before it, blocked on its stdin, and starts the next one', async () => {
    const token = newToken();
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `bash ${await reader()} ${token}`, WATCHDOG_PRESPAWN: '1' });
    const [first] = await untilCount(() => marked(token), 1, 'the spare started with the watchdog');
    const one = await invoke(url, { n: 1 });
    expect(one.status, one.text).toBe(200);
    // A process started ahead cannot know the execution it will serve: no NANOFAAS_EXECUTION_ID.
    expect(one.body).toEqual({ pid: first!.pid, input: { n: 1 }, executionId: '' });
    const [second] = await untilCount(() => marked(token).filter((p) => p.pid !== first!.pid), 1, 'the next spare');
    const two = await invoke(url, { n: 2 });
    expect(two.body).toEqual({ pid: second!.pid, input: { n: 2 }, executionId: '' });
  });

  it('drops a spare that exited unused and starts the call its own process, with the per-call env', async () => {
    const file = await script(
      'no-stdin.sh',
      '#!/usr/bin/env bash\nprintf \'{"pid":%d,"executionId":"%s"}\' $$ "${NANOFAAS_EXECUTION_ID:-}"\n',
    );
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `bash ${file}`, WATCHDOG_PRESPAWN: '1' });
    for (let i = 0; i < 3; i++) {
      const res = await invoke(url, {});
      expect(res.status, res.text).toBe(200);
      // Either a spare that had not exited yet, or (usually) the call's own process.
      expect(['', 'exec-1']).toContain((res.body as { executionId: string }).executionId);
    }
  });

  it('answers 500 with the reason when the command cannot be started, as without spares', async () => {
    const url = await watchdog({ EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: '/nonexistent/definitely-not-here', WATCHDOG_PRESPAWN: '1' });
    for (let i = 0; i < 2; i++) {
      const res = await invoke(url, {});
      expect(res.body).toEqual({ error: 'FUNCTION_ERROR', message: 'cannot start the command "/nonexistent/definitely-not-here": ENOENT' });
    }
  });

  it('kills its spares when it stops', async () => {
    const token = newToken();
    let wd!: ChildProcess;
    await watchdog(
      { EXECUTION_MODE: 'STDIO', WATCHDOG_CMD: `bash ${await reader()} ${token}`, WATCHDOG_PRESPAWN: '2' },
      { onStart: (child) => (wd = child) },
    );
    await untilCount(() => marked(token), 2, 'two spares');
    await stop(wd);
    const left = await untilNone(() => marked(token));
    expect(left, listing(left)).toEqual([]);
  });

  it('rejects a WATCHDOG_PRESPAWN that is not a whole number from 0 to 64 before starting', async () => {
    const child = spawn(process.execPath, ['runtimes/watchdog/dist/main.js'], {
      cwd: repoRoot,
      env: { ...process.env, WATCHDOG_CMD: 'true', WATCHDOG_PRESPAWN: '65' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('WATCHDOG_PRESPAWN');
  });
});

describe('FILE mode', () => {
  it('hands the input over in $INPUT_FILE and reads the output from $OUTPUT_FILE', async () => {
    const file = await script(
      'file.mjs',
      `import { readFileSync, writeFileSync } from 'node:fs';
const input = JSON.parse(readFileSync(process.env.INPUT_FILE, 'utf8'));
if (input.reject) process.exit(65);
if (!input.skip) writeFileSync(process.env.OUTPUT_FILE, JSON.stringify({ doubled: input.n * 2 }));
`,
    );
    const url = await watchdog({ EXECUTION_MODE: 'FILE', WATCHDOG_CMD: JSON.stringify([process.execPath, file]) });
    expect((await invoke(url, { n: 21 })).body).toEqual({ doubled: 42 });
    expect((await invoke(url, { reject: true })).status).toBe(400);
    const missing = await invoke(url, { skip: true });
    expect(missing.status).toBe(500);
    expect(missing.body).toMatchObject({ message: 'the command exited 0 but wrote no OUTPUT_FILE' });
  });
});

describe('STREAM mode', () => {
  let url: string;
  beforeAll(async () => {
    const file = await script(
      'stream.mjs',
      `import { createInterface } from 'node:readline';
createInterface({ input: process.stdin }).on('line', (line) => {
  const input = JSON.parse(line);
  if (input.die) process.exit(3);
  if (input.bad) return process.stdout.write(JSON.stringify({ error: 'INVALID_INPUT', message: 'bad line' }) + '\\n');
  // Answer asynchronously, as a real filter would; a broken pairing shows up as swapped ids.
  setTimeout(() => process.stdout.write(JSON.stringify({ id: input.id, pid: process.pid }) + '\\n'), 0);
});
`,
    );
    url = await watchdog({ EXECUTION_MODE: 'STREAM', WATCHDOG_CMD: JSON.stringify([process.execPath, file]), WATCHDOG_CONCURRENCY: '8' });
  });

  it('pairs each output line with its request, in order, from one long-lived process', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, id) => invoke(url, { id })));
    expect(results.map((r) => (r.body as { id: number }).id)).toEqual(Array.from({ length: 40 }, (_, id) => id));
    expect(new Set(results.map((r) => (r.body as { pid: number }).pid)).size).toBe(1);
  });
  it('turns an error-shaped line into that error', async () => {
    const res = await invoke(url, { bad: true });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'INVALID_INPUT', message: 'bad line' });
  });
  it('fails the request whose process died and restarts the process', async () => {
    const before = (await invoke(url, { id: 1 })).body as { pid: number };
    const died = await invoke(url, { die: true });
    expect(died.status).toBe(500);
    expect(died.body).toMatchObject({ error: 'FUNCTION_ERROR', message: expect.stringContaining('exited with code 3') });
    let after: { pid?: number } = {};
    for (let i = 0; i < 100 && !after.pid; i++) {
      const res = await invoke(url, { id: 2 });
      if (res.status === 200) after = res.body as { pid: number };
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(after.pid).toBeGreaterThan(0);
    expect(after.pid).not.toBe(before.pid);
  });
});

describe('HTTP mode', () => {
  it('kills a command that never listens instead of leaving it running when the start fails', async () => {
    const token = newToken();
    const logs: string[] = [];
    const start = httpExecutor({
      argv: ['sleep', token],
      env: process.env,
      logger: (_level, msg) => logs.push(msg),
      startupTimeoutMs: 300,
    });
    await expect(start).rejects.toThrow(/did not listen on port \d+ within 300 ms/);
    const left = await untilNone(() => marked(token));
    expect(left, listing(left)).toEqual([]);
    expect(logs).not.toContain('http command ended; restarting');
  });

  it('starts the command as a server on a private PORT and forwards invocations to it', async () => {
    const url = await watchdog({
      EXECUTION_MODE: 'HTTP',
      WATCHDOG_CMD: JSON.stringify([process.execPath, 'runtimes/node/dist/main.js']),
      HANDLER: 'functions/word-stats/node/dist/handler.js',
    });
    const ok = await invoke(url, 'Hello hello');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ wordCount: 2, uniqueWords: 1 });
    const bad = await invoke(url, 42);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'INVALID_INPUT' });
  });
});
