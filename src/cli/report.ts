import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ProfileError } from '../loadtest/profile.js';
import { defaultResultsDir, generateReport, type Generated } from '../report/generate.js';
import { ReportError } from '../report/load.js';
import type { Report, Tone } from '../report/model.js';
import { parsePct, regressionLine } from '../report/regression.js';
import { runLines } from '../report/run-section.js';
import { settingsLines } from '../report/settings.js';
import { type Cell, functionTable, highlightLines, RUNTIME_HEADER, runtimeCells, verdictLine, wrapPairs } from '../report/tables.js';
import { table } from '../util/format.js';
import { parseFormats, type ReportFormat } from '../report/write.js';
import type { CliContext } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { withExamples } from './examples.js';
import { printFindMax } from './find-max-output.js';

interface ReportFlags {
  resultsDir?: string;
  baseline?: string;
  format: string;
  out?: string;
  failOnRegression?: number;
}

/** Build and write the report; a bad or missing result file becomes one line and exit 1. */
export function produceReport(
  ctx: CliContext,
  options: {
    resultsDir: string;
    baselineDir?: string;
    formats: readonly ReportFormat[];
    outDir?: string;
    failOnRegressionPct?: number | undefined;
  },
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

/** The terminal form: how the run was made, per-function table, highlights, per-runtime table, files written. */
export function printReport(ctx: CliContext, generated: Generated): void {
  const { out } = ctx;
  const { report } = generated;
  const { c } = out;
  const tone: Record<Tone, (text: string) => string> = { better: c.green, worse: c.red, same: c.dim };
  const verdict = (cell: string) =>
    cell.startsWith('FAIL') || cell === 'INTERRUPTED' ? c.red(cell) : cell === 'PASS' ? c.green(cell) : cell;
  const colour = (row: Cell[]) =>
    row.map((cell, i) =>
      i === row.length - 1 && !cell.delta
        ? verdict(cell.text)
        : cell.delta
          ? `${cell.text} ${tone[cell.delta.tone](cell.delta.text)}`
          : cell.text,
    );
  for (const line of table(
    wrapPairs(
      runLines(report.run).map(([label, value]) => [`${label}:`, value]),
      120,
    ),
    1,
  ))
    out.data(line);
  out.data('');
  for (const line of settingsLines(report.settings)) {
    out.status(line.level === 'warning' ? `${c.yellow('warning:')} ${line.text}` : c.dim(`note: ${line.text}`));
  }
  // Fits 120 columns: changes as percentages, the least-needed columns left out (report.md has them all).
  const fnTable = functionTable(report, 'terminal');
  out.table([fnTable.header, ...fnTable.rows.map(colour)]);
  if (fnTable.note) out.data(c.dim(`(${fnTable.note})`));
  out.data('');
  const highlights = highlightLines(report);
  for (const line of highlights) out.data(line);
  if (highlights.length > 0) out.data('');
  printFindMax(out, report.resultsDir);
  out.table([
    RUNTIME_HEADER,
    ...runtimeCells(report, 'terminal').map((row) =>
      row.map((cell) => (cell.delta ? `${cell.text} ${tone[cell.delta.tone](cell.delta.text)}` : cell.text)),
    ),
  ]);
  out.data('');
  out.data(report.thresholdsPassed ? c.green(verdictLine(report)) : c.red(verdictLine(report)));
  for (const path of generated.paths) out.status(c.dim(`wrote ${path}`));
}

/** --fail-on-regression: one line per regressed function and metric, then exit 99. */
function judgeRegressions(ctx: CliContext, report: Report): void {
  const check = report.regressionCheck;
  if (check === undefined) return;
  const { out } = ctx;
  if (check.regressions.length === 0) {
    out.status(out.c.green(`no function's p95 or req/s is more than ${check.maxPct}% worse than the baseline`));
    return;
  }
  for (const r of check.regressions) out.error(`${out.c.red('regression:')} ${regressionLine(r)}`);
  out.error(
    out.c.red(
      `${check.regressions.length} regression(s) beyond ${check.maxPct}% against the baseline ${report.baselineDir ?? ''} (exit ${EXIT.thresholds})`,
    ),
  );
  ctx.exitCode = EXIT.thresholds;
}

const regressionPct = (value: string): number => {
  try {
    return parsePct(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

export function registerReport(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('report')
    .description('summarise load-test results: terminal table plus report.md, report.json and a self-contained report.html')
    .option('--results-dir <dir>', 'where loadtest wrote its summaries (default k6/results)')
    .option(
      '--baseline <dir>',
      'an earlier results directory: every figure shows its change (Δ and %), and differing settings are warned about',
    )
    .option('--format <list>', 'files to write: md, html, json (comma-separated)', 'md,html,json')
    .option('--out <dir>', 'where to write the report files (default: the results directory)')
    .option(
      '--fail-on-regression <pct>',
      `with --baseline: exit ${EXIT.thresholds} when a function's p95 or req/s is more than pct percent worse`,
      regressionPct,
    )
    .action((flags: ReportFlags) => {
      if (flags.failOnRegression !== undefined && !flags.baseline) {
        throw new UsageError('--fail-on-regression needs --baseline <dir>: the earlier results to compare with');
      }
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
        failOnRegressionPct: flags.failOnRegression,
      });
      const regressed = (generated.report.regressionCheck?.regressions.length ?? 0) > 0;
      ctx.out.document({ ok: !regressed, target: ctx.options.target, ...generated.report, files: generated.paths });
      printReport(ctx, generated);
      judgeRegressions(ctx, generated.report);
    });
  withExamples(cmd, [
    ['nanofaas report', 'report on k6/results/'],
    ['nanofaas report --baseline k6/baseline', 'show every change against an earlier run'],
    ['nanofaas report --baseline k6/baseline --fail-on-regression 10', `exit ${EXIT.thresholds} when a p95 or req/s is over 10% worse`],
    ['nanofaas report --format html --out /tmp/report', 'only the HTML page, elsewhere'],
    ['nanofaas report --json | jq .runtimes', 'machine-readable'],
  ]);
}
