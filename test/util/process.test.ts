import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StepFailure, type StepIO } from '../../src/pipeline/step.js';
import { LocalHost } from '../../src/targets/host/local-host.js';
import { hostExec } from '../../src/targets/host/step-exec.js';
import { runCommand, waitForExit } from '../../src/util/process.js';

const DIST_PROCESS = fileURLToPath(new URL('../../dist/util/process.js', import.meta.url));

/** bash starts a node that would run for ever, prints its pid and waits: the pid is in the same group. */
const LEADER_WITH_HELPER = ['-c', `"${process.execPath}" -e 'setInterval(() => {}, 1e9)' & echo "helper $!"; wait`];

const helperPid = (stdout: string): number => Number(/helper (\d+)/.exec(stdout)?.[1]);

describe('runCommand (execa)', () => {
  it('captures stdout and stderr unchanged and hands over every line, the unterminated last one too', async () => {
    const lines: string[] = [];
    const script = 'process.stdout.write("one\\ntwo"); process.stderr.write("err\\r\\n"); process.exitCode = 3';
    const result = await runCommand(process.execPath, ['-e', script], { onLine: (line) => lines.push(line) });
    expect(result).toEqual({ exitCode: 3, stdout: 'one\ntwo', stderr: 'err\r\n', timedOut: false });
    expect(lines.sort()).toEqual(['err', 'one', 'two']);
  });

  it('gives the program exactly the environment it is given, unless told to extend this one', async () => {
    const keys = 'console.log(Object.keys(process.env).sort().join(","))';
    const only = await runCommand(process.execPath, ['-e', keys], { env: { ONLY: '1' } });
    expect(only.stdout.trim()).toBe('ONLY');
    const extended = await runCommand(process.execPath, ['-e', keys], { env: { ONLY: '1' }, extendEnv: true });
    expect(extended.stdout.trim().split(',')).toEqual(expect.arrayContaining(['ONLY', 'PATH']));
  });

  it('a program that cannot start is exit 127 with the reason on stderr', async () => {
    const result = await runCommand('definitely-not-a-program-xyz', []);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/ENOENT/);
  });

  it('at its timeout the program and what it started in its group are stopped, so its pipes close', async () => {
    const result = await runCommand('bash', LEADER_WITH_HELPER, { timeoutMs: 1_000 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).not.toBe(0);
    const helper = helperPid(result.stdout);
    expect(helper).toBeGreaterThan(0);
    // It was SIGKILLed as the leader exited; its death is the kernel's to finish, so wait for it, boundedly.
    expect(await waitForExit(helper, 5_000)).toBe(true);
  });

  it('the abort signal (Ctrl-C) stops the program and its group', async () => {
    const controller = new AbortController();
    const result = await runCommand('bash', LEADER_WITH_HELPER, {
      signal: controller.signal,
      onLine: (line) => {
        if (line.startsWith('helper')) controller.abort();
      },
    });
    expect(controller.signal.aborted).toBe(true);
    expect(result).toMatchObject({ timedOut: false });
    expect(result.exitCode).not.toBe(0);
    expect(await waitForExit(helperPid(result.stdout), 5_000)).toBe(true);
  });

  it('a group still running when the CLI exits does not outlive it', async () => {
    const script = `
      const { runCommand } = await import(${JSON.stringify(DIST_PROCESS)});
      void runCommand('bash', ${JSON.stringify(LEADER_WITH_HELPER)}, {
        onLine: (line) => { console.log(line); process.exit(0); },
      });`;
    const cli = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = await once(cli, 'exit');
    expect(code).toBe(0);
    const helper = helperPid(out);
    expect(helper).toBeGreaterThan(0);
    expect(await waitForExit(helper, 5_000)).toBe(true);
  });
});

describe('hostExec', () => {
  it("stops the command on the step's signal (Ctrl-C) and fails the step naming it", async () => {
    const controller = new AbortController();
    const logged: string[] = [];
    const io: StepIO = {
      dryRun: false,
      signal: controller.signal,
      log: (line) => {
        logged.push(line);
        if (line === 'started') controller.abort();
      },
      target: () => {},
      exec: () => Promise.reject(new Error('not used')),
    };
    const exec = hostExec(new LocalHost(), io);
    const run = exec([process.execPath, '-e', 'console.log("started"); setInterval(() => {}, 1e9)']);
    await expect(run).rejects.toBeInstanceOf(StepFailure);
    expect(logged).toContain('started');
  });
});
