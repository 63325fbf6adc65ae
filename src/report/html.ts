import type { PrometheusFile, SnapshotMetric } from '../loadtest/prometheus.js';
import { escapeXml as esc, groupedBarChart, lineChart, PALETTE } from './charts.js';
import type { Report } from './model.js';
import { FUNCTION_HEADER, functionRows, highlightLines, RUNTIME_HEADER, runtimeRows, verdictLine } from './tables.js';

const CSS = `
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}
td.pass{color:#1a7f37;font-weight:600}td.fail{color:#cf222e;font-weight:600}
.delta{display:block;color:#666;font-size:.75rem}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.meta{color:#666;font-size:.85rem}
svg{background:#fff;max-width:100%;height:auto}
`;

function tableHtml(header: string[], rows: string[][], verdictColumn?: number): string {
  const cell = (text: string, i: number): string => {
    // Baseline changes ("12.3 Δ +1.0 (+8.8%)") get their own line inside the cell.
    const at = text.indexOf(' Δ ');
    const content = at < 0 ? esc(text) : `${esc(text.slice(0, at))}<span class="delta">${esc(text.slice(at + 1))}</span>`;
    const cls =
      i === verdictColumn
        ? text.startsWith('PASS')
          ? ' class="pass"'
          : text.startsWith('FAIL') || text === 'INTERRUPTED'
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
    '<h2>Per function</h2>',
    tableHtml(FUNCTION_HEADER, functionRows(report), FUNCTION_HEADER.length - 1),
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
    tableHtml(RUNTIME_HEADER, runtimeRows(report)),
    `<p><strong>${esc(verdictLine(report))}</strong></p>`,
    ...prometheusSection(prometheus),
    '</body></html>',
    '',
  ].join('\n');
}
