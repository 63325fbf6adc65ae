import { findMaxMarkdown } from './find-max-section.js';
import type { Report } from './model.js';
import { regressionLine } from './regression.js';
import { runLines } from './run-section.js';
import { settingsLines } from './settings.js';
import { functionHeader, functionRows, highlightLines, RUNTIME_HEADER, runtimeRows, verdictLine } from './tables.js';

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

function regressionMarkdown(report: Report): string[] {
  const check = report.regressionCheck;
  if (check === undefined) return [];
  if (check.regressions.length === 0) return [`Regressions beyond ${check.maxPct}% (p95, req/s): none`, ''];
  return [`Regressions beyond ${check.maxPct}% (p95, req/s):`, '', ...check.regressions.map((r) => `- ${regressionLine(r)}`), ''];
}

function mdTable(header: string[], rows: string[][]): string[] {
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
    '## Run',
    '',
    '| Setting | Value |',
    '|---|---|',
    ...runLines(report.run).map(([label, value]) => `| ${escapeCell(label)} | ${escapeCell(value)} |`),
    '',
    ...settingsLines(report.settings).flatMap((l, i, all) => [
      `> **${l.level}:** ${l.text}${i < all.length - 1 ? '  ' : ''}`,
      ...(i === all.length - 1 ? [''] : []),
    ]),
    ...regressionMarkdown(report),
    '## Per function',
    '',
    ...mdTable(functionHeader(report), functionRows(report)),
    '',
    ...highlightLines(report).flatMap((l, i, all) => [`- ${l}`, ...(i === all.length - 1 ? [''] : [])]),
    ...findMaxMarkdown(report.resultsDir),
    '## Per runtime',
    '',
    ...mdTable(RUNTIME_HEADER, runtimeRows(report)),
    '',
    verdictLine(report),
    '',
  ];
  return lines.join('\n');
}
