import type { Report } from './model.js';
import { FUNCTION_HEADER, functionRows, highlightLines, RUNTIME_HEADER, runtimeRows, verdictLine } from './tables.js';

function mdTable(header: string[], rows: string[][]): string[] {
  const escapeCell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ];
}

export function renderMarkdown(report: Report): string {
  const lines = [
    '# nanofaas load-test report',
    '',
    `Results: \`${report.resultsDir}\`${report.baselineDir ? ` — compared with baseline \`${report.baselineDir}\` (Δ = this run − baseline)` : ''}  `,
    `Generated: ${report.generatedAt}`,
    '',
    '## Per function',
    '',
    ...mdTable(FUNCTION_HEADER, functionRows(report)),
    '',
    ...highlightLines(report).flatMap((l, i, all) => [`- ${l}`, ...(i === all.length - 1 ? [''] : [])]),
    '## Per runtime',
    '',
    ...mdTable(RUNTIME_HEADER, runtimeRows(report)),
    '',
    verdictLine(report),
    '',
  ];
  return lines.join('\n');
}
