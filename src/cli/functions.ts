import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { FunctionSpecInput } from '@nanofaas/control-plane/contracts';
import { ApiError } from '../api-client/client.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { withExamples } from './examples.js';

export function registerFunctions(program: Command, ctx: CliContext): void {
  const fns = program.command('functions').alias('fn').description('list, inspect, register and delete functions');
  withExamples(fns, [
    ['nanofaas functions list'],
    ['nanofaas functions get word-stats-python --json'],
    ['nanofaas functions register -f my-function.json --replace'],
    ['nanofaas functions delete my-function'],
  ]);

  withExamples(
    fns
      .command('list')
      .alias('ls')
      .description('list registered functions')
      .action(async () => {
        ctx.announceTarget();
        const api = await ctx.api();
        const specs = await api.listFunctions();
        ctx.out.document({ ok: true, target: ctx.options.target, functions: specs });
        if (specs.length === 0) {
          ctx.out.status('no functions registered (`nanofaas up` registers the demo functions)');
          return;
        }
        ctx.out.table([
          ['NAME', 'RUNTIME', 'MODE', 'CONCURRENCY', 'QUEUE', 'TIMEOUT'],
          ...specs.map((s) => [s.name, s.runtime ?? s.image ?? '-', s.runtimeMode, String(s.concurrency), String(s.queueSize), `${s.timeoutMs}ms`]),
        ]);
      }),
    [['nanofaas functions list'], ['nanofaas functions list --json | jq ".functions[].name"']],
  );

  withExamples(
    fns
      .command('get')
      .description('show one function: spec and live status')
      .argument('<name>', 'function name')
      .action(async (name: string) => {
        ctx.announceTarget();
        const view = await (await ctx.api()).getFunction(name);
        ctx.out.document({ ok: true, target: ctx.options.target, function: view });
        ctx.out.data(JSON.stringify(view, null, 2));
      }),
    [['nanofaas functions get word-stats-python']],
  );

  withExamples(
    fns
      .command('register')
      .description('register a function from a JSON spec file')
      .requiredOption('-f, --file <spec.json>', 'FunctionSpec JSON (see GET /v1/openapi.json)')
      .option('--replace', 'delete and re-register when the name exists', false)
      .action(async (flags: { file: string; replace: boolean }) => {
        ctx.announceTarget();
        const spec = readSpec(flags.file);
        const api = await ctx.api();
        let replaced = false;
        let registered;
        try {
          registered = await api.registerFunction(spec);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 409 && flags.replace)) {
            if (error instanceof ApiError && error.status === 409) {
              throw new UsageError(`function ${spec.name} already exists`, 'add --replace to delete and re-register it');
            }
            throw error;
          }
          await api.deleteFunction(spec.name);
          registered = await api.registerFunction(spec);
          replaced = true;
        }
        ctx.out.document({ ok: true, target: ctx.options.target, replaced, function: registered });
        ctx.out.status(`${ctx.out.c.green('✔')} ${replaced ? 're-registered' : 'registered'} ${registered.name}`);
      }),
    [['nanofaas functions register -f fn.json'], ['nanofaas functions register -f fn.json --replace']],
  );

  withExamples(
    fns
      .command('delete')
      .alias('rm')
      .description('delete a function (its workload is stopped)')
      .argument('<name>', 'function name')
      .action(async (name: string) => {
        ctx.announceTarget();
        await (await ctx.api()).deleteFunction(name);
        ctx.out.document({ ok: true, target: ctx.options.target, deleted: name });
        ctx.out.status(`${ctx.out.c.green('✔')} deleted ${name}`);
      }),
    [['nanofaas functions delete word-stats-python']],
  );
}

function readSpec(file: string): FunctionSpecInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || typeof (spec as { name?: unknown }).name !== 'string') {
    throw new UsageError(`${file} must be a JSON object with at least a "name"`);
  }
  // The API validates the rest and answers with a precise VALIDATION_ERROR.
  return spec as FunctionSpecInput;
}
