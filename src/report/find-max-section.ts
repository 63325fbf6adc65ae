import { readFindMax, type FindMaxFile, type FunctionMax } from '../loadtest/find-max.js';

/**
 * The `loadtest --find-max` figure: each function's highest sustained arrival rate as a
 * horizontal bar on a log scale (exec's tens and node's thousands of requests per second both
 * read), and the same as a table for the terminal and Markdown. Read from <results>/find-max.json.
 */

const RUNTIME_COLOR: Record<string, string> = { java: '#4e79a7', python: '#f28e2b', node: '#59a14f', exec: '#e15759' };
const FONT = 'font-family="system-ui,sans-serif" font-size="11"';

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The results directory's find-max.json, or undefined (none, or unreadable: the rest of the report still renders). */
function load(dir: string): FindMaxFile | undefined {
  try {
    return readFindMax(dir);
  } catch {
    return undefined;
  }
}

export const FIND_MAX_HEADER = ['Function', 'Runtime', 'Max rate', 'p95 there', 'Failed', 'Steps', 'Next rate broke on'];

const rate = (n: number): string => `${Number(n.toFixed(n < 10 ? 1 : 0))}/s`;

/** One table row per function: the rate that held, its step's figures, what broke above it. */
export function findMaxRows(file: FindMaxFile): string[][] {
  return file.functions.map((f) => {
    const best = f.steps.filter((s) => s.passed && s.rate === f.maxRate).at(-1);
    return [
      f.function,
      f.runtime,
      f.maxRate === null ? 'none' : rate(f.maxRate),
      best ? `${best.p95Ms.toFixed(1)} ms` : '–',
      best ? `${(best.failedRate * 100).toFixed(2)}%` : '–',
      String(f.steps.length),
      f.stoppedBy === 'max-rate'
        ? `held at the ${rate(file.maxRate)} cap`
        : f.stoppedBy === 'interrupted'
          ? 'interrupted'
          : (f.reason ?? ''),
    ];
  });
}

/** "SLO p95<20ms,failed<1% · 5 s per step from 10/s ×1.5 (sync)": how the search was made. */
export function findMaxCaption(file: FindMaxFile): string {
  return `SLO ${file.slo.expression}, and at most ${Number((file.maxIncompleteRate * 100).toFixed(2))}% of iterations dropped or unanswered · ${file.stepDurationSeconds} s per step, from ${rate(file.startRate)} ×${file.factor} up to ${rate(file.maxRate)} (${file.mode})`;
}

/** Log-scale horizontal bars, one per function, in the page's colour of that function (else by runtime). */
export function findMaxChart(functions: readonly FunctionMax[], colorOf?: (fn: string) => string): string {
  const left = 170;
  const right = 70;
  const plotW = 340;
  const rowH = 24;
  const top = 30;
  const width = left + plotW + right;
  const height = top + functions.length * rowH + 34;
  const values = functions.map((f) => f.maxRate).filter((v): v is number => v !== null && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 10)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  if (hi <= lo) hi = lo * 10;
  const x = (v: number): number => left + (plotW * Math.log10(v / lo)) / Math.log10(hi / lo);
  const body: string[] = [`<text x="${left}" y="16" ${FONT} font-weight="600">Highest sustained rate (req/s, log scale)</text>`];
  for (let tick = lo; tick <= hi * 1.0001; tick *= 10) {
    const tx = x(tick).toFixed(1);
    body.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + functions.length * rowH}" stroke="#e5e5e5"/>`);
    body.push(
      `<text x="${tx}" y="${top + functions.length * rowH + 14}" text-anchor="middle" ${FONT}>${tick >= 1000 ? `${tick / 1000}k` : tick}</text>`,
    );
  }
  functions.forEach((f, i) => {
    const y = top + i * rowH;
    body.push(`<text x="${left - 6}" y="${y + 15}" text-anchor="end" ${FONT}>${esc(f.function)}</text>`);
    if (f.maxRate === null || f.maxRate <= 0) {
      body.push(`<text x="${left + 4}" y="${y + 15}" ${FONT} fill="#cf222e">none held</text>`);
      return;
    }
    const end = x(Math.max(f.maxRate, lo));
    const color = colorOf?.(f.function) ?? RUNTIME_COLOR[f.runtime] ?? '#79706e';
    body.push(
      `<rect class="bar" x="${left}" y="${y + 4}" width="${Math.max(1, end - left).toFixed(1)}" height="${rowH - 8}" fill="${color}"><title>${esc(`${f.function}: ${rate(f.maxRate)}`)}</title></rect>`,
      `<text x="${(end + 4).toFixed(1)}" y="${y + 15}" ${FONT}>${esc(rate(f.maxRate))}${f.stoppedBy === 'max-rate' ? '+' : ''}</text>`,
    );
  });
  body.push(`<line x1="${left}" y1="${top - 4}" x2="${left}" y2="${top + functions.length * rowH}" stroke="#888"/>`);
  return `<svg class="chart find-max" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Highest sustained rate per function">${body.join('')}</svg>`;
}

/** The HTML section (empty when the run was not a --find-max run). */
export function findMaxHtml(dir: string, colorOf?: (fn: string) => string): string[] {
  const file = load(dir);
  if (file === undefined || file.functions.length === 0) return [];
  const cell = (text: string) => `<td>${esc(text)}</td>`;
  return [
    '<h2>Highest sustained rate (find-max)</h2>',
    `<p class="note">${esc(findMaxCaption(file))}. A “+” means the search stopped at the cap, not at a breach.</p>`,
    findMaxChart(file.functions, colorOf),
    `<table class="fn"><thead><tr>${FIND_MAX_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`,
    ...findMaxRows(file).map((row) => `<tr>${row.map(cell).join('')}</tr>`),
    '</tbody></table>',
  ];
}

/** The Markdown section (empty when the run was not a --find-max run). */
export function findMaxMarkdown(dir: string): string[] {
  const file = load(dir);
  if (file === undefined || file.functions.length === 0) return [];
  const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    '## Highest sustained rate (find-max)',
    '',
    `${findMaxCaption(file)}.`,
    '',
    row(FIND_MAX_HEADER),
    `|${FIND_MAX_HEADER.map((_, i) => (i < 2 || i === FIND_MAX_HEADER.length - 1 ? '---' : '---:')).join('|')}|`,
    ...findMaxRows(file).map(row),
    '',
  ];
}

/** Terminal rows (header first) for out.table, or none. */
export function findMaxTable(dir: string): { caption: string; rows: string[][] } | undefined {
  const file = load(dir);
  if (file === undefined || file.functions.length === 0) return undefined;
  // The terminal keeps to 120 columns: the breach reason is cut, the file has it whole.
  const rows = findMaxRows(file).map((r) => r.map((c, i) => (i === r.length - 1 && c.length > 48 ? `${c.slice(0, 47)}…` : c)));
  return { caption: findMaxCaption(file), rows: [FIND_MAX_HEADER, ...rows] };
}
