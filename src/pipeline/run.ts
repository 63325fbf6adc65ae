import { Listr, type ListrTask } from 'listr2';
import { displayCommand, runProgram } from '../util/process.js';
import { formatDuration } from '../util/format.js';
import type { RendererName } from './renderer.js';
import {
  StepError,
  StepFailure,
  formatStepError,
  type ExecOptions,
  type ExecResult,
  type Step,
  type StepIO,
  type StepOutcome,
} from './step.js';

export interface PipelineOptions {
  renderer: RendererName;
  /** Print each step's plan (or the commands it would run) instead of running it. */
  dryRun?: boolean;
  /** Forward step log lines to the renderer (always on for the default renderer). */
  verbose?: boolean;
  /** Plain-text sink for dry-run plans; defaults to stdout. */
  write?: (line: string) => void;
  /** How many log lines a failure report keeps. */
  logTailLines?: number;
}

export interface PipelineResult {
  ok: boolean;
  durationMs: number;
  steps: StepOutcome[];
  error?: StepError;
}

const DEFAULT_TAIL = 12;

/**
 * Run steps in order through listr2. Never throws for a step failure: the result carries the
 * StepError so the command can print it (or put it in its --json document) and pick an exit code.
 */
export async function runPipeline<Ctx>(steps: readonly Step<Ctx>[], ctx: Ctx, options: PipelineOptions): Promise<PipelineResult> {
  const started = performance.now();
  const outcomes: StepOutcome[] = steps.map((step) => ({ title: step.title, status: 'not-run', durationMs: 0 }));
  if (options.dryRun) return dryRun(steps, ctx, outcomes, options, started);

  let failure: StepError | undefined;
  const showLog = options.renderer === 'default' || options.verbose === true;
  const tasks: ListrTask<Ctx>[] = steps.map((step, index) => ({
    title: step.title,
    task: async (_ctx, task) => {
      const outcome = outcomes[index]!;
      const t0 = performance.now();
      const io = createIO(false, (line) => {
        if (showLog) task.output = line;
      });
      try {
        const reason = step.skip ? await step.skip(ctx) : false;
        if (reason !== false) {
          outcome.status = 'skipped';
          outcome.detail = reason;
          outcome.durationMs = performance.now() - t0;
          // The default renderer replaces the title with this message; the simple one appends it.
          task.skip(options.renderer === 'default' ? `${step.title} (skipped: ${reason})` : reason);
          return;
        }
        await step.run(ctx, io);
        outcome.status = 'done';
        outcome.durationMs = performance.now() - t0;
        task.title = `${step.title} (${formatDuration(outcome.durationMs)})`;
      } catch (error) {
        outcome.status = 'failed';
        outcome.durationMs = performance.now() - t0;
        failure = toStepError(step, error, io, options.logTailLines ?? DEFAULT_TAIL);
        throw new Error(options.renderer === 'default' ? `${step.title}: ${failure.message}` : failure.message);
      }
    },
  }));

  const listr = new Listr<Ctx, RendererName, 'simple'>(tasks, {
    ctx,
    renderer: options.renderer,
    fallbackRenderer: 'simple',
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: { collapseSkips: true, showSkipMessage: true, collapseErrors: true } as never,
  });
  try {
    await listr.run();
  } catch (error) {
    failure ??= new StepError({ step: 'pipeline', message: error instanceof Error ? error.message : String(error) });
  }
  return { ok: failure === undefined, durationMs: performance.now() - started, steps: outcomes, ...(failure ? { error: failure } : {}) };
}

async function dryRun<Ctx>(
  steps: readonly Step<Ctx>[],
  ctx: Ctx,
  outcomes: StepOutcome[],
  options: PipelineOptions,
  started: number,
): Promise<PipelineResult> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  for (const [index, step] of steps.entries()) {
    const outcome = outcomes[index]!;
    const reason = step.skip ? await step.skip(ctx) : false;
    if (reason !== false) {
      outcome.status = 'skipped';
      outcome.detail = reason;
      write(`• ${step.title} (skipped: ${reason})`);
      continue;
    }
    let plan: string[];
    if (step.plan) {
      plan = await step.plan(ctx);
    } else {
      // No declared plan: run the step with an exec that records commands instead of running them.
      plan = [];
      await step.run(ctx, createIO(true, () => {}, (cmd) => plan.push(cmd)));
    }
    outcome.status = 'planned';
    outcome.detail = plan;
    write(`• ${step.title}`);
    for (const line of plan) write(`    $ ${line}`);
  }
  return { ok: true, durationMs: performance.now() - started, steps: outcomes };
}

interface RecordingIO extends StepIO {
  readonly lines: string[];
  readonly lastTarget: string | undefined;
}

function createIO(dry: boolean, onLog: (line: string) => void, onPlan?: (command: string) => void): RecordingIO {
  const lines: string[] = [];
  let lastTarget: string | undefined;
  const log = (line: string) => {
    const clean = line.replace(/\s+$/, '');
    if (clean === '') return;
    lines.push(clean);
    if (lines.length > 500) lines.splice(0, lines.length - 500);
    onLog(clean);
  };
  return {
    dryRun: dry,
    lines,
    get lastTarget() {
      return lastTarget;
    },
    log,
    target(commandOrUrl) {
      lastTarget = commandOrUrl;
    },
    async exec(command: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      const shown = displayCommand(command, args);
      lastTarget = shown;
      if (dry) {
        onPlan?.(shown);
        return { exitCode: 0, stdout: '', stderr: '' };
      }
      log(`$ ${shown}`);
      const result = await runProgram(command, args, { ...opts, onLine: log });
      if (result.exitCode !== 0 && !opts.allowFailure) {
        const why = result.timedOut ? `timed out after ${formatDuration(opts.timeoutMs ?? 0)}` : `exited with code ${result.exitCode}`;
        throw new StepFailure(`${command} ${why}`, { command: shown, ...(opts.hint ? { hint: opts.hint } : {}) });
      }
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

function toStepError(step: Step<unknown> | Step<never>, error: unknown, io: RecordingIO, tail: number): StepError {
  if (error instanceof StepError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const failure = error instanceof StepFailure ? error : undefined;
  const logTail = [...(failure?.output ?? []), ...io.lines].slice(-tail);
  const command = failure?.command ?? io.lastTarget;
  const hint = failure?.hint ?? step.hint;
  return new StepError({
    step: step.title,
    message,
    ...(command ? { command } : {}),
    logTail,
    ...(hint ? { hint } : {}),
    cause: error,
  });
}

export { formatStepError };
