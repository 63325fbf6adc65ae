import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ApiClient, ApiError } from '../api-client/client.js';
import { apiToken, checkCliEnv, envValue } from '../config/env.js';
import { chooseRenderer, colorEnabled } from '../pipeline/renderer.js';
import { runPipeline } from '../pipeline/run.js';
import { StateDir } from '../state/state-dir.js';
import { loadTarget, resolveTargetName, TARGET_NAMES } from '../targets/index.js';
import type { Target, TargetName } from '../targets/target.js';
import { ROOT_DIR } from '../util/paths.js';
import type { CliContext, GlobalOptions } from './context.js';
import { CliError, EXIT } from './errors.js';
import { interruptExitCode } from './interrupt.js';
import { suggestCommand } from './hints.js';
import { createOutput, type Output, type OutputStreams } from './output.js';
import { registerDoctor } from './doctor.js';
import { registerDown } from './down.js';
import { registerExecutions } from './executions.js';
import { registerFunctions } from './functions.js';
import { registerInvoke } from './invoke.js';
import { registerLoadtest } from './loadtest.js';
import { registerLogs } from './logs.js';
import { registerReport } from './report.js';
import { registerStatus } from './status.js';
import { registerUp } from './up.js';

export interface RunDeps extends OutputStreams {
  env: NodeJS.ProcessEnv;
  rootDir: string;
  /** Aborted when the user interrupts (main.ts wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

const defaultDeps = (): RunDeps => ({ env: process.env, rootDir: ROOT_DIR, stdout: process.stdout, stderr: process.stderr });

/** Build the commander program and the lazily-initialised context its commands share. */
export function buildProgram(deps: RunDeps): {
  program: Command;
  ctx: CliContext;
  usageError: () => string | undefined;
  dispose: () => Promise<void>;
} {
  const program = new Command('nanofaas');
  let usageMessage: string | undefined;
  const version = (JSON.parse(readFileSync(join(deps.rootDir, 'package.json'), 'utf8')) as { version: string }).version;

  program
    .description('Stand up nanofaas, invoke and load-test its functions, and report on them.')
    .version(version, '-V, --version')
    .addOption(new Option('-t, --target <name>', 'where nanofaas runs (env NANOFAAS_TARGET)').choices(TARGET_NAMES))
    .option('--json', 'print one JSON document to stdout and nothing else', false)
    .option('-v, --verbose', 'plain step output with every log line', false)
    .option('--state-dir <dir>', 'state directory (env NANOFAAS_STATE_DIR, default <repo>/.nanofaas)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
      // Commander's own usage errors: keep the text, print it our way (one line) in run().
      outputError: (s) =>
        (usageMessage = s
          .replace(/^error:\s*/i, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ nanofaas up                      start the platform locally and register the demo functions
  $ nanofaas invoke word-stats-python --data '{"text":"hello world"}'
  $ nanofaas loadtest                load-test every registered function, then write the report
  $ nanofaas down                    stop everything up started

Exit codes: 0 ok, 1 failed, 2 usage, 99 load-test thresholds failed.`,
    );

  let out: Output | undefined;
  let state: StateDir | undefined;
  let target: Promise<Target> | undefined;
  let api: Promise<ApiClient> | undefined;
  let announced = false;

  const globals = (): GlobalOptions => {
    const opts = program.opts<{ target?: string; json: boolean; verbose: boolean; stateDir?: string }>();
    const targetName: TargetName = resolveTargetName(opts.target, deps.env);
    return {
      target: targetName,
      json: opts.json,
      verbose: opts.verbose,
      stateDir: StateDir.resolve(opts.stateDir, deps.env, deps.rootDir).path,
    };
  };

  const ctx: CliContext = {
    signal: deps.signal ?? new AbortController().signal,
    suggest(command) {
      const opts = program.opts<{ target?: string; stateDir?: string }>();
      return suggestCommand(
        command,
        { ...(opts.target ? { target: opts.target } : {}), ...(opts.stateDir ? { stateDir: opts.stateDir } : {}) },
        deps.env,
      );
    },
    rootDir: deps.rootDir,
    env: deps.env,
    exitCode: EXIT.ok,
    get options() {
      return globals();
    },
    get state() {
      state ??= new StateDir(globals().stateDir);
      return state;
    },
    get out() {
      if (!out) {
        const { json, verbose } = globals();
        out = createOutput(deps, {
          json,
          verbose,
          color: colorEnabled(deps.stdout.isTTY === true && deps.stderr.isTTY === true, deps.env),
        });
      }
      return out;
    },
    target() {
      target ??= loadTarget(globals().target, {
        rootDir: deps.rootDir,
        state: ctx.state,
        env: deps.env,
        suggest: (command) => ctx.suggest(command),
      });
      return target;
    },
    api() {
      api ??= (async () => {
        const explicit = envValue(deps.env, 'NANOFAAS_URL');
        const fromState = ctx.state.endpoints();
        const baseUrl =
          explicit ??
          (fromState && fromState.target === globals().target ? fromState.apiUrl : undefined) ??
          (await (await ctx.target()).endpoints())?.apiUrl;
        if (!baseUrl) {
          throw new CliError(`no running nanofaas found for target ${globals().target} (state: ${ctx.state.path})`, {
            hint: 'run `nanofaas up`, or set NANOFAAS_URL to the API address',
          });
        }
        // A cluster target reads the token its chart generated (kubectl get secret); the environment wins.
        let token = apiToken(deps.env);
        try {
          token ??= await (await ctx.target()).apiToken?.();
        } catch (error) {
          throw new CliError((error as Error).message, { hint: 'set NANOFAAS_API_TOKEN to the control plane token' });
        }
        try {
          return new ApiClient({ baseUrl, ...(token ? { token } : {}) });
        } catch (error) {
          throw new CliError(`NANOFAAS_URL is not usable: ${(error as Error).message}`, { exitCode: EXIT.usage });
        }
      })();
      return api;
    },
    pipeline(steps, pctx, options = {}) {
      const { json, verbose } = globals();
      const columns = (deps.stdout as { columns?: number }).columns;
      const renderer = chooseRenderer({
        json,
        verbose,
        isTTY: deps.stdout.isTTY === true,
        ...(deps.stdout.isTTY ? { columns: columns ?? 0 } : {}),
        env: deps.env,
      });
      return runPipeline(steps, pctx, {
        renderer,
        verbose,
        signal: ctx.signal,
        ...(options.dryRun ? { dryRun: true, write: (line: string) => ctx.out.data(line) } : {}),
      });
    },
    announceTarget() {
      if (announced) return;
      announced = true;
      const name = globals().target;
      ctx.out.status(ctx.out.c.dim(`target: ${name}`));
    },
  };

  // The environment is validated once, before any command does anything (help and --version do not
  // get here): a malformed variable is a usage error naming it, exit 2.
  program.hook('preAction', async (_program, action) => {
    const { target } = globals();
    checkCliEnv(deps.env, target);
    if (target === 'local' && action.name() === 'up') {
      // What `up` passes on to the control plane, checked by the control plane's own parser.
      const { checkControlPlaneEnv } = await import('../targets/local/control-plane.js');
      checkControlPlaneEnv(deps.env, ctx.state);
    }
    if (target === 'docker' && action.name() === 'up') {
      const { checkContainerEnv } = await import('../targets/docker/control-plane.js');
      checkContainerEnv(deps.env, ctx.state);
    }
  });

  for (const register of [
    registerUp,
    registerDown,
    registerStatus,
    registerInvoke,
    registerExecutions,
    registerFunctions,
    registerLogs,
    registerDoctor,
    registerLoadtest,
    registerReport,
  ]) {
    register(program, ctx);
  }
  const dispose = async () => {
    const client = await api?.catch(() => undefined);
    await client?.close();
  };
  return { program, ctx, usageError: () => usageMessage, dispose };
}

/** Parse argv, run the command, map every failure to one clear line and an exit code. */
export async function run(argv: readonly string[], deps: RunDeps = defaultDeps()): Promise<number> {
  const { program, ctx, usageError, dispose } = buildProgram(deps);
  const json = argv.includes('--json');
  const line = (text: string) => deps.stderr.write(text + '\n');
  const fail = (code: string, message: string, exitCode: number, hint?: string): number => {
    if (json) {
      let target: string | undefined;
      try {
        target = ctx.options.target;
      } catch {
        target = undefined;
      }
      deps.stdout.write(
        JSON.stringify({ ok: false, ...(target ? { target } : {}), error: { code, message, ...(hint ? { hint } : {}) } }, null, 2) + '\n',
      );
    } else {
      line(`nanofaas: ${message}`);
      if (hint) line(`  hint: ${hint}`);
    }
    return exitCode;
  };

  // One line for an interrupted command, whatever it was doing; the command itself says nothing more.
  const interrupted = (documented: boolean): number => {
    const code = interruptExitCode(ctx.signal.reason);
    const message = interruptMessage(ctx, commandName(program, argv), program);
    if (!json) line(`nanofaas: ${message}`);
    else if (!documented) fail('INTERRUPTED', message, code);
    return code;
  };

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return ctx.signal.aborted ? interrupted(true) : ctx.exitCode;
  } catch (error) {
    // An error an interrupt caused (an aborted request, a killed build) is the interrupt.
    if (ctx.signal.aborted) return interrupted(false);
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      // `help <cmd>` exits 0; help shown because a subcommand is missing is a usage error.
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      const where = commandPath(program, argv);
      return fail('USAGE', `${usageError() ?? error.message} (see \`${where} --help\`)`, EXIT.usage);
    }
    if (error instanceof CliError) return fail(error.code, error.message, error.exitCode, error.hint);
    if (error instanceof ApiError) {
      const hint = error.code === 'UNREACHABLE' ? 'is it running? `nanofaas status`, or set NANOFAAS_URL' : undefined;
      return fail(error.code, error.status ? `${error.code}: ${error.message}` : error.message, EXIT.failed, hint);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (argv.includes('--verbose') || argv.includes('-v')) line(String((error as Error)?.stack ?? message));
    return fail('INTERNAL', `unexpected error: ${message}`, EXIT.failed, 'rerun with --verbose and report it');
  } finally {
    await dispose();
  }
}

function commandName(program: Command, argv: readonly string[]): string | undefined {
  const names = new Set(program.commands.map((c) => c.name()));
  return argv.find((a) => names.has(a));
}

function commandPath(program: Command, argv: readonly string[]): string {
  const sub = commandName(program, argv);
  return sub ? `nanofaas ${sub}` : 'nanofaas';
}

/** What an interrupted command leaves behind, and the command that deals with it. */
function interruptMessage(ctx: CliContext, command: string | undefined, program: Command): string {
  if (command === 'loadtest') {
    // loadtest leaves results, not processes: what ran is kept, the stopped run marked interrupted.
    const dir = program.commands.find((c) => c.name() === 'loadtest')?.opts<{ resultsDir?: string }>().resultsDir;
    return `interrupted; the results so far are kept (a stopped run is marked interrupted): \`${ctx.suggest(dir ? `report --results-dir ${dir}` : 'report')}\` shows them`;
  }
  if (command === 'up') return `interrupted; what was started is recorded: \`${ctx.suggest('down')}\` stops it`;
  if (command === 'down') return `interrupted; \`${ctx.suggest('down')}\` again stops the rest`;
  return 'interrupted';
}
