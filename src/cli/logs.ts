/** `logs <fn>`: the function's runtime logs, from wherever the target keeps them. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { CliError, UsageError } from './errors.js';
import { intArg, withExamples } from './examples.js';
import { parseSince } from './logs-since.js';

interface LogsFlags {
  follow: boolean;
  tail?: number;
  since?: Date;
}

export function registerLogs(program: Command, ctx: CliContext): void {
  withExamples(
    program
      .command('logs')
      .description("print a function's runtime logs: the process backend's log file, the containers' or the pods' logs")
      .argument('<fn>', 'function name')
      .option('-f, --follow', 'keep printing new lines until Ctrl-C', false)
      .option('--tail <n>', 'only the last n lines (of each replica)', intArg('--tail', 0, 1_000_000))
      .option('--since <time>', 'only lines since then: a duration back from now (30s, 5m, 2h) or an RFC 3339 time', (v: string) =>
        parseSince(v),
      )
      .action(async (fn: string, flags: LogsFlags) => {
        const { json } = ctx.options;
        if (json && flags.follow) throw new UsageError('--follow prints lines as they come; it cannot be combined with --json');
        ctx.announceTarget();
        const target = await ctx.target();
        if (!target.logs) {
          throw new CliError(`logs are not supported on the ${target.name} target yet`, {
            code: 'NOT_SUPPORTED',
            hint: `\`${ctx.suggest(`functions describe ${fn}`)}\` shows its state and last error`,
          });
        }
        const lines: string[] = [];
        let result: { source: string };
        try {
          result = await target.logs(fn, {
            ...(flags.tail === undefined ? {} : { tail: flags.tail }),
            ...(flags.since === undefined ? {} : { since: flags.since }),
            follow: flags.follow,
            signal: ctx.signal,
            line: (text) => (json ? lines.push(text) : ctx.out.data(text)),
          });
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          throw new CliError((error as Error).message, {
            code: 'NO_LOGS',
            hint: `\`${ctx.suggest('functions list')}\` shows the registered functions`,
          });
        }
        ctx.out.document({
          ok: true,
          target: target.name,
          function: fn,
          source: result.source,
          ...(flags.since === undefined ? {} : { since: flags.since.toISOString() }),
          lines,
        });
      }),
    [
      ['nanofaas logs word-stats-node', 'everything the runtime wrote'],
      ['nanofaas logs word-stats-node --tail 20 --follow', 'the last 20 lines, then new ones until Ctrl-C'],
      ['nanofaas logs word-stats-node --since 5m', 'what it wrote in the last five minutes'],
      ['nanofaas logs word-stats-node --since 2026-12-06T03:00:00Z', 'since then (an RFC 3339 time)'],
      ['nanofaas logs word-stats-node --json | jq -r ".lines[]"'],
    ],
  ).addHelpText(
    'after',
    [
      '',
      '--json: {ok, target, function, source, since?, lines} (not with --follow).',
      "Where: local, the process backend's log file; docker, `docker logs` of each container;",
      "kubeconfig and multipass, each pod's log through the Kubernetes API.",
      'Several replicas: each line starts with its replica or pod.',
      "--since on a log file: a line's time is its own (run header, JSON time, leading time);",
      'an unstamped line counts as new as the next stamped one, so nothing newer is hidden.',
    ].join('\n'),
  );
}
