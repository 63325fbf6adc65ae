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
  /** The longer wording a narrow form leaves out (the HTML page shows it on hover). */
  title?: string;
}

export const cellText = (c: Cell): string => (c.delta ? `${c.text} ${c.delta.text}` : c.text);

/**
 * The three forms of the per-function table: `full` (Markdown, report.json readers) spells every
 * change out; `html` and `terminal` show a change as its percentage, with short headers, so the
 * page fits 1280 px and the terminal 120 columns.
 */
export type TableForm = 'full' | 'html' | 'terminal';

type FigureName = FigureKey | 'meanAvgMs' | 'meanRps' | 'meanFailPct';

/** A change as a percentage only ("+10.0%", "new" when the baseline was 0). */
export function formatChangePct(key: FigureName, c: Change): string {
  if (c.delta === 0) return '±0';
  if (c.pct === null) return 'new';
  if (key === 'failPct' || key === 'meanFailPct') {
    const pp = Math.abs(c.delta).toFixed(2);
    return `${c.delta > 0 ? '+' : c.delta < 0 ? '−' : '±'}${pp}pp`;
  }
  return `${c.pct > 0 ? '+' : c.pct < 0 ? '−' : '±'}${Math.abs(c.pct).toFixed(1)}%`;
}

function figureCell(key: FigureName, value: number | null, change: Change | undefined, form: TableForm = 'full'): Cell {
  const text = formatFigure(key, value);
  if (!change) return { text };
  const full = formatChange(key, change);
  if (form === 'full') return { text, delta: { text: full, tone: toneOf(key, change) } };
  return { text, delta: { text: formatChangePct(key, change), tone: toneOf(key, change) }, title: full };
}

export function verdictText(row: FunctionRow): string {
  if (row.interrupted) return 'INTERRUPTED';
  if (row.verdict === null) return 'n/a';
  if (row.verdict.passed) return 'PASS';
  return `FAIL ${row.verdict.checks
    .filter((c) => !c.passed)
    .map((c) => c.expression)
    .join(' ')}`;
}

/** "FAIL p95 p99 fail%": which limits broke, without the limits (the run section lists them). */
export function shortVerdictText(row: FunctionRow): string {
  const full = verdictText(row);
  if (!full.startsWith('FAIL ')) return full;
  const names = (row.verdict?.checks ?? [])
    .filter((c) => !c.passed)
    .map((c) => (c.expression.startsWith('rate') ? 'fail%' : c.expression.replace(/^p\((\d+)\).*/, 'p$1').replace(/^count.*/, 'no reqs')));
  return `FAIL ${names.join(' ')}`;
}

interface Column {
  id: string;
  header: string;
  /** The header of the HTML page and the terminal (units in the caption or note instead). */
  short: string;
  /** Terminal: the narrowest tables keep the columns with the highest rank. */
  rank: number;
  cell(row: FunctionRow, form: TableForm): Cell;
}

const figureColumn = (key: FigureKey, header: string, short: string, rank: number): Column => ({
  id: key,
  header,
  short,
  rank,
  cell: (row, form) => figureCell(key, row.figures[key], row.changes?.[key], form),
});

const serverCell = (value: number | null | undefined): Cell => ({ text: value === undefined ? '' : formatFigure('p95', value) });

/** Every column the per-function table can have, in order; optional ones appear only when a row has the figure. */
function columnsFor(report: Report): Column[] {
  const hasServer = report.functions.some((r) => r.server !== undefined);
  const hasDropped = report.functions.some((r) => (r.dropped ?? 0) > 0);
  return [
    { id: 'function', header: 'Function', short: 'Function', rank: 100, cell: (row) => ({ text: row.function }) },
    { id: 'runtime', header: 'Runtime', short: 'Runtime', rank: 3, cell: (row) => ({ text: row.runtime }) },
    figureColumn('reqs', 'Reqs', 'Reqs', 4),
    figureColumn('failPct', 'Fail%', 'Fail%', 8),
    figureColumn('avg', 'Avg ms', 'Avg', 1),
    figureColumn('med', 'p50 ms', 'p50', 6),
    figureColumn('p90', 'p90 ms', 'p90', 0),
    figureColumn('p95', 'p95 ms', 'p95', 9),
    figureColumn('p99', 'p99 ms', 'p99', 5),
    figureColumn('rps', 'Req/s', 'Req/s', 9),
    ...(hasServer
      ? [
          {
            id: 'serverP50',
            header: 'Server p50 ms',
            short: 'Srv p50',
            rank: 2,
            cell: (row: FunctionRow) => serverCell(row.server?.serverP50),
          },
          {
            id: 'serverP95',
            header: 'Server p95 ms',
            short: 'Srv p95',
            rank: 7,
            cell: (row: FunctionRow) => serverCell(row.server?.serverP95),
          },
          {
            id: 'agrees',
            header: 'Agrees ±25%',
            short: '±25%',
            rank: 7,
            cell: (row: FunctionRow): Cell =>
              row.server === undefined
                ? { text: '' }
                : {
                    text: row.server.agrees ? 'yes' : 'no',
                    title: `server ÷ client: p50 ${ratioText(row.server.ratio50)}, p95 ${ratioText(row.server.ratio95)} (${row.server.metric} histogram, agree within ±${row.server.tolerance * 100}%)`,
                  },
          },
        ]
      : []),
    ...(hasDropped
      ? [{ id: 'dropped', header: 'Dropped', short: 'Dropped', rank: 8, cell: (row: FunctionRow) => ({ text: String(row.dropped ?? 0) }) }]
      : []),
    {
      id: 'verdict',
      header: 'Thresholds',
      short: 'Thresholds',
      rank: 100,
      cell: (row, form) => {
        const full = verdictText(row);
        const short = shortVerdictText(row);
        return form === 'full' || short === full ? { text: full } : { text: short, title: full };
      },
    },
  ];
}

const ratioText = (r: number | null): string => (r === null ? 'n/a' : `${r.toFixed(2)}×`);

export interface FunctionTable {
  header: string[];
  rows: Cell[][];
  /** Columns left out to fit (terminal only), by header. */
  omitted: string[];
  /** Terminal: the line under the table (units, what was left out). */
  note?: string;
}

const tableWidth = (header: readonly string[], rows: readonly Cell[][], gap = 2): number =>
  header.reduce((sum, h, i) => sum + Math.max(h.length, ...rows.map((r) => cellText(r[i] ?? { text: '' }).length)), 0) +
  gap * Math.max(0, header.length - 1);

/**
 * The per-function table in one form. The terminal form drops its least-needed columns (p90,
 * avg, server p50, runtime, …) until the table fits `maxWidth`, then shortens function names.
 */
export function functionTable(report: Report, form: TableForm, maxWidth = 120): FunctionTable {
  const columns = columnsFor(report);
  const build = (cols: readonly Column[]) => ({
    header: cols.map((c) => (form === 'full' ? c.header : c.short)),
    rows: report.functions.map((row) => cols.map((c) => c.cell(row, form))),
  });
  if (form !== 'terminal') return { ...build(columns), omitted: [] };
  let kept = columns;
  let table = build(kept);
  const byRank = [...columns].filter((c) => c.rank < 100).sort((a, b) => a.rank - b.rank);
  for (const drop of byRank) {
    if (tableWidth(table.header, table.rows) <= maxWidth) break;
    kept = kept.filter((c) => c !== drop);
    table = build(kept);
  }
  const excess = tableWidth(table.header, table.rows) - maxWidth;
  if (excess > 0) {
    const longest = Math.max(...table.rows.map((r) => r[0]?.text.length ?? 0));
    const limit = Math.max(8, longest - excess);
    for (const row of table.rows) {
      const name = row[0];
      if (name && name.text.length > limit) row[0] = { text: `${name.text.slice(0, limit - 1)}…`, title: name.text };
    }
  }
  const left = columns.filter((c) => !kept.includes(c));
  const omitted = left.map((c) => c.header);
  const note = [
    'latencies in ms',
    ...(report.baselineDir !== undefined ? ['Δ vs baseline in %'] : []),
    ...(left.length > 0 ? [`in report.md only: ${left.map((c) => c.short).join(', ')}`] : []),
  ].join('; ');
  return { ...table, omitted, note };
}

/** The full header (Markdown); the optional columns follow the report's figures. */
export function functionHeader(report: Report): string[] {
  return functionTable(report, 'full').header;
}

/** The columns of a report without optional figures; kept for callers that print a fixed header. */
export const FUNCTION_HEADER = [
  'Function',
  'Runtime',
  'Reqs',
  'Fail%',
  'Avg ms',
  'p50 ms',
  'p90 ms',
  'p95 ms',
  'p99 ms',
  'Req/s',
  'Thresholds',
];

export function functionCells(report: Report, form: TableForm = 'full'): Cell[][] {
  return functionTable(report, form).rows;
}

export function functionRows(report: Report): string[][] {
  return functionCells(report).map((row) => row.map(cellText));
}

export const RUNTIME_HEADER = ['Runtime', 'Functions', 'Mean avg ms', 'Mean req/s', 'Mean fail%'];

export function runtimeCells(report: Report, form: TableForm = 'full'): Cell[][] {
  return report.runtimes.map((row: RuntimeRow) => [
    { text: row.runtime },
    { text: String(row.functions) },
    ...(['meanAvgMs', 'meanRps', 'meanFailPct'] as const).map((key) => figureCell(key, row[key], row.changes?.[key], form)),
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

/**
 * Label/value rows for a terminal `width` wide: a value too long for its line continues on the
 * next ones under itself (broken at spaces, or anywhere in a word longer than the line).
 */
export function wrapPairs(rows: readonly (readonly [string, string])[], width = 120, gap = 1): [string, string][] {
  const labelW = Math.max(0, ...rows.map(([label]) => label.length)) + gap;
  const room = Math.max(20, width - labelW);
  const out: [string, string][] = [];
  for (const [label, value] of rows) {
    const lines: string[] = [];
    let line = '';
    for (const word of value.split(' ')) {
      let rest = word;
      while (rest.length > room) {
        if (line !== '') lines.push(line);
        lines.push(rest.slice(0, room));
        rest = rest.slice(room);
        line = '';
      }
      if (line === '') line = rest;
      else if (line.length + 1 + rest.length <= room) line += ` ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
    for (const [i, text] of lines.entries()) out.push([i === 0 ? label : '', text]);
  }
  return out;
}
