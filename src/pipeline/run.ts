import { Listr, type ListrTask } from 'listr2';
import { displayCommand, runCommand } from '../util/process.js';
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
  /**
   * Aborted on Ctrl-C: the running step is told (io.signal) and given a moment to undo what it
   * cannot record, later steps do not run, and the renderer restores the terminal.
   */
  signal?: AbortSignal;
  /** How long an interrupted step may take to settle before it is abandoned (ms). */
  interruptGraceMs?: number;
}

export interface PipelineResult {
  ok: boolean;
  durationMs: number;
  steps: StepOutcome[];
  error?: StepError;
  /** The user interrupted the run: it stopped early, and that is not a step failure. */
  interrupted?: boolean;
}

const DEFAULT_TAIL = 12;
const DEFAULT_INTERRUPT_GRACE_MS = 10_000;
const NEVER: AbortSignal = new AbortController().signal;

/** Thrown inside a listr task to stop the list when the user interrupted. */
class Interrupted extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'Interrupted';
  }
}

/**
 * Run steps in order through listr2. Never throws for a step failure: the result carries the
 * StepError so the command can print it (or put it in its --json document) and pick an exit code.
 */
export async function runPipeline<Ctx>(steps: readonly Step<Ctx>[], ctx: Ctx, options: PipelineOptions): Promise<PipelineResult> {
  const started = performance.now();
  const outcomes: StepOutcome[] = steps.map((step) => ({ title: step.title, status: 'not-run', durationMs: 0 }));
  if (options.dryRun) return dryRun(steps, ctx, outcomes, options, started);

  const signal = options.signal ?? NEVER;
  const grace = options.interruptGraceMs ?? DEFAULT_INTERRUPT_GRACE_MS;
  let failure: StepError | undefined;
  const showLog = options.renderer === 'default' || options.verbose === true;
  const tasks: ListrTask<Ctx>[] = steps.map((step, index) => ({
    title: step.title,
    task: async (_ctx, task) => {
      if (signal.aborted) throw new Interrupted();
      const outcome = outcomes[index]!;
      const t0 = performance.now();
      const io = createIO(signal, (line) => {
        if (showLog) task.output = line;
      });
      // The spinner keeps turning while the step undoes its work; say why.
      const onAbort = () => {
        if (options.renderer === 'default') task.title = `${step.title} (interrupting…)`;
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const reason = step.skip ? await settleOrAbandon(() => step.skip!(ctx, { dryRun: false }), signal, grace) : false;
        if (reason !== false) {
          outcome.status = 'skipped';
          outcome.detail = reason;
          outcome.durationMs = performance.now() - t0;
          // The default renderer replaces the title with this message; the simple one appends it.
          task.skip(options.renderer === 'default' ? `${step.title} (skipped: ${reason})` : reason);
          return;
        }
        await settleOrAbandon(() => step.run(ctx, io), signal, grace);
        outcome.status = 'done';
        outcome.durationMs = performance.now() - t0;
        task.title = `${step.title} (${formatDuration(outcome.durationMs)})`;
      } catch (error) {
        outcome.durationMs = performance.now() - t0;
        // Whatever a step throws once the user interrupted is the interrupt's doing, not a failure.
        if (signal.aborted) {
          outcome.status = 'interrupted';
          // The default renderer shows a failed task's message in place of its title; the simple one appends it.
          throw new Interrupted(options.renderer === 'default' ? `${step.title} (interrupted)` : 'interrupted');
        }
        outcome.status = 'failed';
        failure = toStepError(step, error, io, options.logTailLines ?? DEFAULT_TAIL);
        throw new Error(options.renderer === 'default' ? `${step.title}: ${failure.message}` : failure.message);
      } finally {
        signal.removeEventListener('abort', onAbort);
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
    if (!(error instanceof Interrupted)) {
      failure ??= new StepError({ step: 'pipeline', message: error instanceof Error ? error.message : String(error) });
    }
  }
  // An interrupt that lands after the last step finished still ends the command early.
  const interrupted = signal.aborted;
  return {
    ok: failure === undefined && !interrupted,
    durationMs: performance.now() - started,
    steps: outcomes,
    ...(failure && !interrupted ? { error: failure } : {}),
    ...(interrupted ? { interrupted: true } : {}),
  };
}

/**
 * Await a step's work; once `signal` aborts, wait at most `graceMs` more for it to settle (the
 * step was told through io.signal), then give up on it so the command can end.
 */
async function settleOrAbandon<T>(work: () => T | Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  const pending = Promise.resolve().then(work);
  if (signal === NEVER) return pending;
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      timer = setTimeout(() => reject(new Interrupted()), graceMs);
      timer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // The loser of the race must not surface as an unhandled rejection.
  pending.catch(() => {});
  abandoned.catch(() => {});
  try {
    return await Promise.race([pending, abandoned]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (timer) clearTimeout(timer);
  }
}

async function dryRun<Ctx>(
  steps: readonly Step<Ctx>[],
  ctx: Ctx,
  outcomes: StepOutcome[],
  options: PipelineOptions,
  started: number,
): Promise<PipelineResult> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const mode = { dryRun: true } as const;
  for (const [index, step] of steps.entries()) {
    const outcome = outcomes[index]!;
    const reason = step.skip ? await step.skip(ctx, mode) : false;
    if (reason !== false) {
      outcome.status = 'skipped';
      outcome.detail = reason;
      write(`• ${step.title} (skipped: ${reason})`);
      continue;
    }
    // Never `run`, not even with a recording exec: a step may write files without exec.
    const plan = step.plan ? await step.plan(ctx, mode) : [];
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

function createIO(signal: AbortSignal, onLog: (line: string) => void): RecordingIO {
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
    dryRun: false,
    signal,
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
      if (signal.aborted) throw new StepFailure('interrupted', { command: shown });
      log(`$ ${shown}`);
      const { hint: _hint, allowFailure: _allowFailure, ...run } = opts;
      const result = await runCommand(command, args, { ...run, onLine: log, signal });
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
