import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/process.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { chooseRenderer, colorEnabled } from '../../src/pipeline/renderer.js';
import { formatStepError, StepError, StepFailure, type Step } from '../../src/pipeline/step.js';

interface Ctx {
  ran: string[];
  done: boolean;
}

const silent = { renderer: 'silent' as const };

describe('pipeline', () => {
  it('runs steps in order, records timings, and skips with the reason', async () => {
    const steps: Step<Ctx>[] = [
      { title: 'first', run: (ctx) => void ctx.ran.push('first') },
      { title: 'idempotent', skip: (ctx) => (ctx.done ? 'already done' : false), run: (ctx) => void ctx.ran.push('idempotent') },
      {
        title: 'slow',
        run: async (ctx) => {
          // The step's own work, of a known minimum length; only a lower bound is asserted on it,
          // which a loaded machine cannot break.
          await new Promise((r) => setTimeout(r, 60));
          ctx.ran.push('slow');
        },
      },
    ];
    const ctx: Ctx = { ran: [], done: true };
    const result = await runPipeline(steps, ctx, silent);
    expect(result.ok).toBe(true);
    expect(ctx.ran).toEqual(['first', 'slow']);
    expect(result.steps.map((s) => [s.title, s.status, s.detail])).toEqual([
      ['first', 'done', undefined],
      ['idempotent', 'skipped', 'already done'],
      ['slow', 'done', undefined],
    ]);
    expect(result.steps[2]!.durationMs).toBeGreaterThanOrEqual(50);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.steps[2]!.durationMs);
  });

  it('a failing command becomes a StepError naming the command, its output tail and the hint', async () => {
    const steps: Step<Ctx>[] = [
      {
        title: 'compile',
        hint: 'step-level hint (overridden)',
        run: async (_ctx, io) => {
          io.log('starting the compiler');
          await io.exec(
            process.execPath,
            ['-e', 'for (let i = 1; i <= 30; i++) console.log("line " + i); console.error("boom: bad input"); process.exit(3)'],
            {
              hint: 'fix the input and rerun',
            },
          );
        },
      },
      { title: 'never', run: (ctx) => void ctx.ran.push('never') },
    ];
    const ctx: Ctx = { ran: [], done: false };
    const result = await runPipeline(steps, ctx, { ...silent, logTailLines: 5 });
    expect(result.ok).toBe(false);
    expect(ctx.ran).toEqual([]);
    expect(result.steps.map((s) => s.status)).toEqual(['failed', 'not-run']);
    const error = result.error!;
    expect(error).toBeInstanceOf(StepError);
    expect(error.step).toBe('compile');
    expect(error.message).toContain('exited with code 3');
    expect(error.command).toContain(process.execPath);
    expect(error.hint).toBe('fix the input and rerun');
    expect(error.logTail).toHaveLength(5);
    expect(error.logTail.join('\n')).toContain('boom: bad input');
    expect(error.logTail.join('\n')).toContain('line 30');
    const text = formatStepError(error).join('\n');
    expect(text).toMatch(/^✖ compile failed: .*exited with code 3/);
    expect(text).toContain('while running: ');
    expect(text).toContain('│ boom: bad input');
    expect(text).toContain('hint: fix the input and rerun');
  });

  it('a thrown error uses the step hint and the last URL the step talked to', async () => {
    const steps: Step<Ctx>[] = [
      {
        title: 'register',
        hint: 'is the API up?',
        run: (_ctx, io) => {
          io.target('http://127.0.0.1:1/v1/functions');
          io.log('POST word-stats');
          throw new Error('connection refused');
        },
      },
    ];
    const result = await runPipeline(steps, { ran: [], done: false }, silent);
    expect(result.error?.toJSON()).toEqual({
      step: 'register',
      message: 'connection refused',
      command: 'http://127.0.0.1:1/v1/functions',
      logTail: ['POST word-stats'],
      hint: 'is the API up?',
    });
  });

  it('a StepFailure carries its own command, output and hint', async () => {
    const steps: Step<Ctx>[] = [
      {
        title: 'start',
        run: () => {
          throw new StepFailure('exited during startup', { command: 'node main.js', output: ['EADDRINUSE 8080'], hint: 'use --port 0' });
        },
      },
    ];
    const result = await runPipeline(steps, { ran: [], done: false }, silent);
    expect(result.error).toMatchObject({ step: 'start', command: 'node main.js', logTail: ['EADDRINUSE 8080'], hint: 'use --port 0' });
  });

  it('dry run prints plans, honours skips, tells skip and plan it is a dry run, and never calls run', async () => {
    const lines: string[] = [];
    const modes: string[] = [];
    const steps: Step<Ctx>[] = [
      {
        title: 'declared plan',
        skip: (_ctx, mode) => {
          modes.push(`skip:${mode.dryRun}`);
          return false;
        },
        plan: (_ctx, mode) => {
          modes.push(`plan:${mode.dryRun}`);
          return ['multipass launch --name vm'];
        },
        run: (ctx) => void ctx.ran.push('declared'),
      },
      {
        // Without a plan a dry run used to call run() with a recording exec; a step that changes
        // state without exec (here: ran.push) then changed it. Now only its title is shown.
        title: 'no plan',
        run: async (ctx, io) => {
          ctx.ran.push('no plan');
          await io.exec('helm', ['upgrade', '--install', 'nanofaas', 'helm/nanofaas']);
        },
      },
      { title: 'skipped', skip: () => 'VM already running', run: (ctx) => void ctx.ran.push('skipped') },
    ];
    const ctx: Ctx = { ran: [], done: false };
    const result = await runPipeline(steps, ctx, { ...silent, dryRun: true, write: (l) => lines.push(l) });
    expect(result.ok).toBe(true);
    expect(ctx.ran).toEqual([]);
    expect(modes).toEqual(['skip:true', 'plan:true']);
    expect(result.steps.map((s) => s.status)).toEqual(['planned', 'planned', 'skipped']);
    expect(lines).toEqual(['• declared plan', '    $ multipass launch --name vm', '• no plan', '• skipped (skipped: VM already running)']);
  });

  it('a real run tells skip it is not a dry run', async () => {
    const modes: boolean[] = [];
    const steps: Step<Ctx>[] = [
      {
        title: 'a',
        skip: (_ctx, mode) => {
          modes.push(mode.dryRun);
          return false;
        },
        run: () => {},
      },
    ];
    await runPipeline(steps, { ran: [], done: false }, silent);
    expect(modes).toEqual([false]);
  });

  it('exec never goes through a shell', async () => {
    let out = '';
    const steps: Step<Ctx>[] = [
      {
        title: 'echo',
        run: async (_ctx, io) => {
          out = (await io.exec(process.execPath, ['-e', 'console.log(process.argv[1])', '$(echo injected); ls'])).stdout;
        },
      },
    ];
    expect((await runPipeline(steps, { ran: [], done: false }, silent)).ok).toBe(true);
    expect(out.trim()).toBe('$(echo injected); ls');
  });
});

describe('interrupt (ctx.signal)', () => {
  it('tells the running step, marks it interrupted, runs nothing after it, and is not a failure', async () => {
    const controller = new AbortController();
    const steps: Step<Ctx>[] = [
      { title: 'first', run: (ctx) => void ctx.ran.push('first') },
      {
        title: 'waiting',
        run: async (ctx, io) => {
          ctx.ran.push('waiting');
          const told = once(io.signal, 'abort');
          controller.abort();
          await told;
          throw new Error('stopped waiting');
        },
      },
      { title: 'after', run: (ctx) => void ctx.ran.push('after') },
    ];
    const ctx: Ctx = { ran: [], done: false };
    const result = await runPipeline(steps, ctx, { ...silent, signal: controller.signal });
    expect(ctx.ran).toEqual(['first', 'waiting']);
    expect(result.ok).toBe(false);
    expect(result.interrupted).toBe(true);
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => s.status)).toEqual(['done', 'interrupted', 'not-run']);
  });

  it('stops the program a step is running (its whole group)', async () => {
    const controller = new AbortController();
    // The program reports its pid over a socket once it runs: the event the test interrupts on.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const pid = new Promise<number>((resolve) =>
      server.once('connection', (socket) => socket.once('data', (d) => resolve(Number(String(d))))),
    );
    void pid.then(() => controller.abort());
    const { port } = server.address() as AddressInfo;
    const script = `require('net').connect(${port}, '127.0.0.1', function () { this.write(String(process.pid)); }); setInterval(() => {}, 1000);`;
    let exitCode: number | undefined;
    const steps: Step<Ctx>[] = [
      {
        title: 'long build',
        run: async (_ctx, io) => {
          exitCode = (await io.exec(process.execPath, ['-e', script], { allowFailure: true })).exitCode;
        },
      },
      { title: 'after', run: (ctx) => void ctx.ran.push('after') },
    ];
    const ctx: Ctx = { ran: [], done: false };
    try {
      const result = await runPipeline(steps, ctx, { ...silent, signal: controller.signal });
      expect(exitCode).not.toBe(0);
      expect(isAlive(await pid)).toBe(false);
      expect(result.interrupted).toBe(true);
      expect(ctx.ran).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('abandons a step that ignores the interrupt after the grace period', async () => {
    const controller = new AbortController();
    const steps: Step<Ctx>[] = [
      {
        title: 'deaf',
        run: () => {
          controller.abort();
          return new Promise<void>(() => {});
        },
      },
    ];
    const result = await runPipeline(steps, { ran: [], done: false }, { ...silent, signal: controller.signal, interruptGraceMs: 20 });
    expect(result.interrupted).toBe(true);
    expect(result.steps[0]!.status).toBe('interrupted');
  });

  it('an interrupt during a skip check stops the run too', async () => {
    const controller = new AbortController();
    const ctx: Ctx = { ran: [], done: false };
    const steps: Step<Ctx>[] = [
      {
        title: 'check',
        skip: () => {
          controller.abort();
          return false;
        },
        run: (c) => void c.ran.push('check'),
      },
      { title: 'after', run: (c) => void c.ran.push('after') },
    ];
    const result = await runPipeline(steps, ctx, { ...silent, signal: controller.signal });
    expect(result.interrupted).toBe(true);
    expect(ctx.ran).not.toContain('after');
  });
});

describe('renderer choice', () => {
  const env = {};
  it('spinners only for a person at a terminal', () => {
    expect(chooseRenderer({ json: false, verbose: false, isTTY: true, env })).toBe('default');
    expect(chooseRenderer({ json: false, verbose: false, isTTY: false, env })).toBe('simple');
    expect(chooseRenderer({ json: false, verbose: true, isTTY: true, env })).toBe('simple');
    expect(chooseRenderer({ json: false, verbose: false, isTTY: true, env: { CI: 'true' } })).toBe('simple');
    expect(chooseRenderer({ json: true, verbose: true, isTTY: true, env })).toBe('silent');
  });
  it('a terminal narrower than 40 columns (or 0, as under `script`) gets the plain renderer', () => {
    const tty = { json: false, verbose: false, isTTY: true, env };
    expect(chooseRenderer({ ...tty, columns: 0 })).toBe('simple');
    expect(chooseRenderer({ ...tty, columns: 39 })).toBe('simple');
    expect(chooseRenderer({ ...tty, columns: 40 })).toBe('default');
    expect(chooseRenderer({ ...tty, columns: 200 })).toBe('default');
  });
  it('colour honours NO_COLOR and the TTY', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: '1' })).toBe(true);
  });
});
