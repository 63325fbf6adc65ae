import { describe, expect, it } from 'vitest';
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
          await io.exec(process.execPath, ['-e', 'for (let i = 1; i <= 30; i++) console.log("line " + i); console.error("boom: bad input"); process.exit(3)'], {
            hint: 'fix the input and rerun',
          });
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

  it('dry run prints plans and recorded commands, honours skips, and runs nothing', async () => {
    const lines: string[] = [];
    const steps: Step<Ctx>[] = [
      { title: 'declared plan', plan: () => ['multipass launch --name vm'], run: (ctx) => void ctx.ran.push('declared') },
      {
        title: 'recorded',
        run: async (ctx, io) => {
          expect(io.dryRun).toBe(true);
          const r = await io.exec('helm', ['upgrade', '--install', 'nanofaas', 'helm/nanofaas']);
          expect(r.exitCode).toBe(0);
          await io.exec('kubectl', ['rollout', 'status', 'deploy/x', '--timeout', '180s']);
          if (!io.dryRun) ctx.ran.push('recorded');
        },
      },
      { title: 'skipped', skip: () => 'VM already running', run: (ctx) => void ctx.ran.push('skipped') },
    ];
    const ctx: Ctx = { ran: [], done: false };
    const result = await runPipeline(steps, ctx, { ...silent, dryRun: true, write: (l) => lines.push(l) });
    expect(result.ok).toBe(true);
    expect(ctx.ran).toEqual([]);
    expect(result.steps.map((s) => s.status)).toEqual(['planned', 'planned', 'skipped']);
    expect(lines).toEqual([
      '• declared plan',
      '    $ multipass launch --name vm',
      '• recorded',
      '    $ helm upgrade --install nanofaas helm/nanofaas',
      '    $ kubectl rollout status deploy/x --timeout 180s',
      '• skipped (skipped: VM already running)',
    ]);
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

describe('renderer choice', () => {
  const env = {};
  it('spinners only for a person at a terminal', () => {
    expect(chooseRenderer({ json: false, verbose: false, isTTY: true, env })).toBe('default');
    expect(chooseRenderer({ json: false, verbose: false, isTTY: false, env })).toBe('simple');
    expect(chooseRenderer({ json: false, verbose: true, isTTY: true, env })).toBe('simple');
    expect(chooseRenderer({ json: false, verbose: false, isTTY: true, env: { CI: 'true' } })).toBe('simple');
    expect(chooseRenderer({ json: true, verbose: true, isTTY: true, env })).toBe('silent');
  });
  it('colour honours NO_COLOR and the TTY', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: '1' })).toBe(true);
  });
});
