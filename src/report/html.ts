import type { PrometheusFile, SnapshotMetric } from '../loadtest/prometheus.js';
import { escapeXml as esc, groupedBarChart, lineChart, PALETTE } from './charts.js';
import type { Report } from './model.js';
import { regressionLine } from './regression.js';
import { runLines } from './run-section.js';
import { settingsLines } from './settings.js';
import { FUNCTION_HEADER, functionCells, highlightLines, RUNTIME_HEADER, runtimeCells, verdictLine, type Cell } from './tables.js';

const CSS = `
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}
td.pass{color:#1a7f37;font-weight:600}td.fail{color:#cf222e;font-weight:600}
.delta{display:block;color:#666;font-size:.75rem}.delta.better{color:#1a7f37}.delta.worse{color:#cf222e}
dl.run{display:grid;grid-template-columns:8rem 1fr;gap:.2rem 1rem;font-size:.9rem;margin:.5rem 0}dl.run dt{font-weight:600}dl.run dd{margin:0;overflow-wrap:anywhere}
p.warning{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .6rem;margin:.3rem 0}
p.note{color:#666;margin:.3rem 0}.regressions{color:#cf222e}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.meta{color:#666;font-size:.85rem}
svg{background:#fff;max-width:100%;height:auto}
`;

function tableHtml(header: string[], rows: Cell[][], verdictColumn?: number): string {
  const cell = (c: Cell, i: number): string => {
    // A baseline change gets its own line inside the cell, coloured by whether it is better or worse.
    const content = c.delta ? `${esc(c.text)}<span class="delta ${c.delta.tone}">${esc(c.delta.text)}</span>` : esc(c.text);
    const cls =
      i === verdictColumn
        ? c.text.startsWith('PASS')
          ? ' class="pass"'
          : c.text.startsWith('FAIL') || c.text === 'INTERRUPTED'
            ? ' class="fail"'
            : ''
        : '';
    return `<td${cls}>${content}</td>`;
  };
  return [
    '<table>',
    `<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((row) => `<tr>${row.map(cell).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

/** How the run was made, the baseline's differences and the regressions: the top of the page. */
function runSection(report: Report): string[] {
  const rows = runLines(report.run).map(([label, value]) => `<dt>${esc(label)}</dt><dd>${esc(value)}</dd>`);
  const notices = settingsLines(report.settings).map((l) => `<p class="${l.level}">${esc(`${l.level}: ${l.text}`)}</p>`);
  const check = report.regressionCheck;
  const regressions =
    check === undefined
      ? []
      : check.regressions.length === 0
        ? [`<p class="meta">Regressions beyond ${check.maxPct}% (p95, req/s): none</p>`]
        : [
            `<div class="regressions"><p>Regressions beyond ${check.maxPct}% (p95, req/s):</p><ul>${check.regressions
              .map((r) => `<li>${esc(regressionLine(r))}</li>`)
              .join('')}</ul></div>`,
          ];
  return ['<h2>Run</h2>', `<dl class="run">${rows.join('')}</dl>`, ...notices, ...regressions];
}

const METRIC_TITLES: Record<SnapshotMetric, string> = {
  latency: 'function latency',
  queueWait: 'queue wait',
  e2e: 'end-to-end latency',
};

function prometheusSection(prometheus: PrometheusFile | undefined): string[] {
  if (prometheus === undefined || prometheus.windows.length === 0) return [];
  const out = [
    '<h2>Control-plane percentiles per test window (Prometheus)</h2>',
    `<p class="meta">Source: ${esc(prometheus.prometheusUrl)}</p>`,
  ];
  for (const window of prometheus.windows) {
    out.push(
      `<h3>${esc(window.function)} <span class="meta">${esc(window.start)} → ${esc(window.end)}</span></h3>`,
      '<div class="charts">',
    );
    for (const metric of Object.keys(METRIC_TITLES) as SnapshotMetric[]) {
      const byQuantile = window.series[metric] ?? {};
      out.push(
        lineChart({
          title: `${window.function}: ${METRIC_TITLES[metric]}`,
          yLabel: 'ms',
          series: Object.entries(byQuantile).map(([name, points], i) => ({ name, color: PALETTE[i % PALETTE.length] ?? '#333', points })),
        }),
      );
    }
    out.push('</div>');
  }
  return out;
}

/** The self-contained report page: inline CSS, inline SVG, no script, no external request. */
export function renderHtml(report: Report, prometheus?: PrometheusFile): string {
  const names = report.functions.map((r) => r.function);
  const percentiles = (['avg', 'med', 'p90', 'p95', 'p99'] as const).map((key, i) => ({
    name: key,
    color: PALETTE[i] ?? '#333',
    values: report.functions.map((r) => r.figures[key]),
  }));
  const throughput = [
    { name: 'req/s', color: PALETTE[2] ?? '#333', values: report.functions.map((r) => r.figures.rps) },
    ...(report.baselineDir
      ? [{ name: 'baseline', color: '#bbb', values: report.functions.map((r) => r.changes?.rps?.baseline ?? null) }]
      : []),
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<title>nanofaas load-test report</title>',
    `<style>${CSS}</style>`,
    '</head><body>',
    '<h1>nanofaas load-test report</h1>',
    `<p class="meta">Results: ${esc(report.resultsDir)}${report.baselineDir ? ` — baseline: ${esc(report.baselineDir)} (Δ = this run − baseline)` : ''}<br>Generated: ${esc(report.generatedAt)}</p>`,
    ...runSection(report),
    '<h2>Per function</h2>',
    tableHtml(FUNCTION_HEADER, functionCells(report), FUNCTION_HEADER.length - 1),
    ...(highlightLines(report).length > 0
      ? [
          `<ul>${highlightLines(report)
            .map((l) => `<li>${esc(l)}</li>`)
            .join('')}</ul>`,
        ]
      : []),
    '<div class="charts">',
    groupedBarChart({ title: 'Latency per function (ms)', yLabel: 'ms', categories: names, series: percentiles }),
    groupedBarChart({ title: 'Throughput per function (req/s)', yLabel: 'req/s', categories: names, series: throughput }),
    '</div>',
    '<h2>Per runtime</h2>',
    tableHtml(RUNTIME_HEADER, runtimeCells(report)),
    `<p><strong>${esc(verdictLine(report))}</strong></p>`,
    ...prometheusSection(prometheus),
    '</body></html>',
    '',
  ].join('\n');
}
