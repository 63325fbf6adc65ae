import { toneOf, type Change, type FigureKey, type FunctionRow, type Report, type RuntimeRow, type Tone } from './model.js';

/** Cell text shared by the terminal table, Markdown and HTML: same rounding everywhere. */
export function formatFigure(key: FigureKey | 'meanAvgMs' | 'meanRps' | 'meanFailPct', value: number | null): string {
  if (value === null) return '—';
  switch (key) {
    case 'reqs':
      return String(Math.round(value));
    case 'failPct':
    case 'meanFailPct':
      return `${value.toFixed(2)}%`;
    case 'rps':
    case 'meanRps':
      return value.toFixed(1);
    default:
      return value < 100 ? value.toFixed(2) : value.toFixed(1);
  }
}

export function formatChange(key: FigureKey | 'meanAvgMs' | 'meanRps' | 'meanFailPct', c: Change | undefined): string {
  if (c === undefined) return '';
  const sign = c.delta > 0 ? '+' : c.delta < 0 ? '−' : '±';
  const magnitude = formatFigure(key, Math.abs(c.delta)).replace('%', key === 'failPct' || key === 'meanFailPct' ? ' pp' : '');
  const pct = c.pct === null ? 'new' : `${c.pct > 0 ? '+' : c.pct < 0 ? '−' : '±'}${Math.abs(c.pct).toFixed(1)}%`;
  return `Δ ${sign}${magnitude} (${pct})`;
}

/** A table cell: its figure and, against a baseline, the change with how it reads. */
export interface Cell {
  text: string;
  delta?: { text: string; tone: Tone };
}

export const cellText = (c: Cell): string => (c.delta ? `${c.text} ${c.delta.text}` : c.text);

function figureCell(key: FigureKey | 'meanAvgMs' | 'meanRps' | 'meanFailPct', value: number | null, change: Change | undefined): Cell {
  const text = formatFigure(key, value);
  return change ? { text, delta: { text: formatChange(key, change), tone: toneOf(key, change) } } : { text };
}

export const FUNCTION_HEADER = [
  'Function',
  'Runtime',
  'Reqs',
  'Fail%',
  'Avg ms',
  'Med ms',
  'p90 ms',
  'p95 ms',
  'p99 ms',
  'Req/s',
  'Thresholds',
];

export function verdictText(row: FunctionRow): string {
  if (row.interrupted) return 'INTERRUPTED';
  if (row.verdict === null) return 'n/a';
  if (row.verdict.passed) return 'PASS';
  return `FAIL ${row.verdict.checks
    .filter((c) => !c.passed)
    .map((c) => c.expression)
    .join(' ')}`;
}

export function functionCells(report: Report): Cell[][] {
  return report.functions.map((row) => [
    { text: row.function },
    { text: row.runtime },
    ...(['reqs', 'failPct', 'avg', 'med', 'p90', 'p95', 'p99', 'rps'] as const).map((key) =>
      figureCell(key, row.figures[key], row.changes?.[key]),
    ),
    { text: verdictText(row) },
  ]);
}

export function functionRows(report: Report): string[][] {
  return functionCells(report).map((row) => row.map(cellText));
}

export const RUNTIME_HEADER = ['Runtime', 'Functions', 'Mean avg ms', 'Mean req/s', 'Mean fail%'];

export function runtimeCells(report: Report): Cell[][] {
  return report.runtimes.map((row: RuntimeRow) => [
    { text: row.runtime },
    { text: String(row.functions) },
    ...(['meanAvgMs', 'meanRps', 'meanFailPct'] as const).map((key) => figureCell(key, row[key], row.changes?.[key])),
  ]);
}

export function runtimeRows(report: Report): string[][] {
  return runtimeCells(report).map((row) => row.map(cellText));
}

export function highlightLines(report: Report): string[] {
  const fig = (fn: string) => report.functions.find((r) => r.function === fn)?.figures;
  const { fastest, slowest, highestThroughput } = report.highlights;
  // No complete run sent a request: there is nothing to rank, so no line names nobody.
  if (fastest === '') return [];
  return [
    `Fastest (avg): ${fastest} (${formatFigure('avg', fig(fastest)?.avg ?? null)} ms)`,
    `Slowest (avg): ${slowest} (${formatFigure('avg', fig(slowest)?.avg ?? null)} ms)`,
    `Highest throughput: ${highestThroughput} (${formatFigure('rps', fig(highestThroughput)?.rps ?? null)} req/s)`,
  ];
}

/** The closing verdict, the same words in the terminal, Markdown and HTML. */
export function verdictLine(report: Report): string {
  if (report.thresholdsPassed) return 'Thresholds: all passed';
  const failed = report.functions.filter((r) => !r.interrupted && r.verdict && !r.verdict.passed).map((r) => r.function);
  const parts = [
    ...(failed.length > 0 ? [`FAILED for ${failed.join(', ')}`] : []),
    ...(report.interrupted.length > 0 ? [`INTERRUPTED (partial run, not judged): ${report.interrupted.join(', ')}`] : []),
  ];
  return `Thresholds: ${parts.join('; ')}`;
}
