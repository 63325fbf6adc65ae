import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ProfileError } from '../loadtest/profile.js';
import { defaultResultsDir, generateReport, type Generated } from '../report/generate.js';
import { ReportError } from '../report/load.js';
import { FUNCTION_HEADER, functionRows, highlightLines, RUNTIME_HEADER, runtimeRows, verdictLine } from '../report/tables.js';
import { parseFormats, type ReportFormat } from '../report/write.js';
import type { CliContext } from './context.js';
import { CliError, UsageError } from './errors.js';
import { withExamples } from './examples.js';

interface ReportFlags {
  resultsDir?: string;
  baseline?: string;
  format: string;
  out?: string;
}

/** Build and write the report; a bad or missing result file becomes one line and exit 1. */
export function produceReport(
  ctx: CliContext,
  options: { resultsDir: string; baselineDir?: string; formats: readonly ReportFormat[]; outDir?: string },
): Generated {
  try {
    return generateReport({
      ...options,
      profilePath: resolve(ctx.rootDir, 'k6', 'profile.json'),
      suggest: (command) => ctx.suggest(command),
    });
  } catch (error) {
    if (error instanceof ReportError || error instanceof ProfileError) throw new CliError(error.message, { code: 'REPORT_INPUT' });
    throw error;
  }
}

/** The terminal form: per-function table, highlights, per-runtime table, files written. */
export function printReport(ctx: CliContext, generated: Generated): void {
  const { out } = ctx;
  const { report } = generated;
  const colour = (row: string[]) =>
    row.map((cell, i) =>
      i === row.length - 1
        ? cell.startsWith('FAIL') || cell === 'INTERRUPTED'
          ? out.c.red(cell)
          : cell === 'PASS'
            ? out.c.green(cell)
            : cell
        : cell,
    );
  out.table([FUNCTION_HEADER, ...functionRows(report).map(colour)]);
  out.data('');
  const highlights = highlightLines(report);
  for (const line of highlights) out.data(line);
  if (highlights.length > 0) out.data('');
  out.table([RUNTIME_HEADER, ...runtimeRows(report)]);
  out.data('');
  out.data(report.thresholdsPassed ? out.c.green(verdictLine(report)) : out.c.red(verdictLine(report)));
  for (const path of generated.paths) out.status(out.c.dim(`wrote ${path}`));
}

export function registerReport(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('report')
    .description('summarise load-test results: terminal table plus report.md, report.json and a self-contained report.html')
    .option('--results-dir <dir>', 'where loadtest wrote its summaries (default k6/results)')
    .option('--baseline <dir>', 'an earlier results directory: every figure shows its change (Δ and %)')
    .option('--format <list>', 'files to write: md, html, json (comma-separated)', 'md,html,json')
    .option('--out <dir>', 'where to write the report files (default: the results directory)')
    .action((flags: ReportFlags) => {
      ctx.announceTarget();
      let formats: ReportFormat[];
      try {
        formats = parseFormats(flags.format);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const generated = produceReport(ctx, {
        resultsDir: flags.resultsDir ? resolve(flags.resultsDir) : defaultResultsDir(ctx.rootDir),
        ...(flags.baseline ? { baselineDir: resolve(flags.baseline) } : {}),
        ...(flags.out ? { outDir: resolve(flags.out) } : {}),
        formats,
      });
      ctx.out.document({ ok: true, target: ctx.options.target, ...generated.report, files: generated.paths });
      printReport(ctx, generated);
    });
  withExamples(cmd, [
    ['nanofaas report', 'report on k6/results/'],
    ['nanofaas report --baseline k6/baseline', 'show every change against an earlier run'],
    ['nanofaas report --format html --out /tmp/report', 'only the HTML page, elsewhere'],
    ['nanofaas report --json | jq .runtimes', 'machine-readable'],
  ]);
}
