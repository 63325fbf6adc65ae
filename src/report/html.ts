import type { PrometheusFile } from '../loadtest/prometheus.js';
import type { SeriesFile } from '../loadtest/timeseries.js';
import { barChart, colorAt, escapeXml as esc, latencyChart, timeSeriesChart } from './charts.js';
import type { Report } from './model.js';
import { anyOf, seriesLines, serverP95Lines, widestBin } from './over-time.js';
import { AGREEMENT_METRIC } from './prometheus-agreement.js';
import { findMaxHtml } from './find-max-section.js';
import { regressionLine } from './regression.js';
import { runLines } from './run-section.js';
import { settingsLines } from './settings.js';
import { functionTable, highlightLines, RUNTIME_HEADER, runtimeCells, verdictLine, type Cell } from './tables.js';

// Laid out for a 1280 px window: a 1200 px column, the table in compact form, charts two abreast.
const CSS = `
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222;padding:0 1rem;line-height:1.35}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
table{border-collapse:collapse;font-size:.8rem;margin:.4rem 0;max-width:100%}
caption{caption-side:bottom;text-align:left;color:#666;font-size:.75rem;padding-top:.3rem}
th,td{border:1px solid #ddd;padding:.22rem .4rem;text-align:right;white-space:nowrap;vertical-align:top}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;max-width:12rem}
table.fn td:nth-child(2),table.fn th:nth-child(2){text-align:left}
td:last-child{white-space:normal}
td.pass{color:#1a7f37;font-weight:600}td.fail{color:#cf222e;font-weight:600}
.delta{display:block;color:#666;font-size:.72rem}.delta.better{color:#1a7f37}.delta.worse{color:#cf222e}
.swatch{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.35rem;vertical-align:-.05rem}
dl.run{display:grid;grid-template-columns:6.5rem minmax(0,1fr) 6.5rem minmax(0,1fr);gap:.15rem .8rem;font-size:.85rem;margin:.4rem 0}
dl.run dt{font-weight:600}dl.run dd{margin:0;overflow-wrap:anywhere}
p.warning{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .6rem;margin:.3rem 0}
p.note{color:#666;margin:.3rem 0}.regressions{color:#cf222e}
ul.highlights{margin:.3rem 0;padding-left:1.2rem;font-size:.9rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1rem 1.5rem;margin:.6rem 0}
.meta{color:#666;font-size:.85rem;overflow-wrap:anywhere}
svg.chart{background:#fff;width:100%;max-width:580px;height:auto;display:block}
`;

function tableHtml(
  header: string[],
  rows: Cell[][],
  options: { verdictColumn?: number; className?: string; caption?: string; swatches?: (row: number) => string } = {},
): string {
  const verdictColumn = options.verdictColumn;
  const cell = (c: Cell, i: number, r: number): string => {
    // A baseline change gets its own line inside the cell, coloured by whether it is better or worse.
    const text =
      i === 0 && options.swatches ? `<span class="swatch" style="background:${options.swatches(r)}"></span>${esc(c.text)}` : esc(c.text);
    const content = c.delta ? `${text}<span class="delta ${c.delta.tone}">${esc(c.delta.text)}</span>` : text;
    const title = c.title ? ` title="${esc(c.title)}"` : '';
    const cls =
      i === verdictColumn
        ? c.text.startsWith('PASS')
          ? ' class="pass"'
          : c.text.startsWith('FAIL') || c.text === 'INTERRUPTED'
            ? ' class="fail"'
            : ''
        : '';
    return `<td${cls}${title}>${content}</td>`;
  };
  return [
    `<table${options.className ? ` class="${options.className}"` : ''}>`,
    ...(options.caption ? [`<caption>${esc(options.caption)}</caption>`] : []),
    `<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((row, r) => `<tr>${row.map((c, i) => cell(c, i, r)).join('')}</tr>`),
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

/** Percentiles and throughput per function: the two questions every reader starts with. */
function perFunctionCharts(report: Report, colorOf: (fn: string) => string): string[] {
  if (report.functions.length === 0) return [];
  const latency = latencyChart({
    title: 'Latency per function',
    subtitle: 'client side, whole run; log scale so fast and slow functions both read',
    rows: report.functions.map((r) => ({
      name: r.function,
      color: colorOf(r.function),
      p50: r.figures.med,
      p95: r.figures.p95,
      p99: r.figures.p99,
      ...(r.changes?.p95 ? { baselineP95: r.changes.p95.baseline } : {}),
    })),
  });
  const throughput = barChart({
    title: 'Throughput per function',
    subtitle: 'completed invocations per second, whole run',
    metric: 'throughput',
    unit: 'req/s',
    rows: report.functions.map((r) => ({
      name: r.function,
      color: colorOf(r.function),
      value: r.figures.rps,
      ...(r.changes?.rps ? { baseline: r.changes.rps.baseline } : {}),
    })),
  });
  return ['<div class="charts">', latency, throughput, '</div>'];
}

/**
 * One chart per metric with every function on it: how throughput and latency moved during each
 * run, and the control plane's view of the same windows. Charts with nothing to say are left out
 * (no failures, no drops, no Prometheus).
 */
function overTimeSection(series: readonly SeriesFile[], prometheus: PrometheusFile | undefined, colorOf: (fn: string) => string): string[] {
  const server = serverP95Lines(prometheus, colorOf);
  if (series.length === 0 && server.length === 0) return [];
  const bin = widestBin(series);
  const per = bin === 1 ? 'per second' : `per ${bin} s (the worst second for latency)`;
  const charts: string[] = [];
  if (series.length > 0) {
    charts.push(
      timeSeriesChart({
        title: 'Throughput over time',
        subtitle: `completed requests ${per}`,
        metric: 'throughput-over-time',
        yLabel: 'req/s',
        scale: 'linear',
        lines: seriesLines(series, 'throughput', colorOf),
      }),
      timeSeriesChart({
        title: 'Client p95 latency over time',
        subtitle: `${per}, log scale`,
        metric: 'p95-over-time',
        yLabel: 'ms',
        scale: 'log',
        lines: seriesLines(series, 'p95', colorOf),
      }),
    );
  }
  if (server.length > 0) {
    charts.push(
      timeSeriesChart({
        title: 'Server p95 latency over time (Prometheus)',
        subtitle: `control plane's ${AGREEMENT_METRIC} histogram, every ${prometheus?.windows[0]?.stepSeconds ?? 1} s, log scale`,
        metric: 'server-p95-over-time',
        yLabel: 'ms',
        scale: 'log',
        lines: server,
      }),
    );
  }
  if (anyOf(series, (s) => s.failed)) {
    charts.push(
      timeSeriesChart({
        title: 'Failures over time',
        subtitle: `failed requests ${per}`,
        metric: 'failures-over-time',
        yLabel: 'failed/s',
        scale: 'linear',
        // Only the functions that failed at all: six flat lines at zero would hide the two that matter.
        lines: seriesLines(
          series.filter((f) => f.samples.some((s) => s.failed > 0)),
          'failures',
          colorOf,
        ),
      }),
    );
  }
  if (series.length > 0) {
    charts.push(
      timeSeriesChart({
        title: 'Active VUs over time',
        subtitle: 'the load offered: most VUs running at once',
        metric: 'vus-over-time',
        yLabel: 'VUs',
        scale: 'linear',
        lines: seriesLines(series, 'vus', colorOf),
      }),
    );
  }
  if (anyOf(series, (s) => s.dropped)) {
    charts.push(
      timeSeriesChart({
        title: 'Dropped iterations over time',
        subtitle: `arrivals that found no free VU, ${per}`,
        metric: 'dropped-over-time',
        yLabel: 'dropped/s',
        scale: 'linear',
        lines: seriesLines(
          series.filter((f) => f.samples.some((s) => s.dropped > 0)),
          'dropped',
          colorOf,
        ),
      }),
    );
  }
  return [
    '<h2>Over time</h2>',
    ...(prometheus && server.length > 0 ? [`<p class="meta">Prometheus: ${esc(prometheus.prometheusUrl)}</p>`] : []),
    '<div class="charts">',
    ...charts,
    '</div>',
  ];
}

/** The self-contained report page: inline CSS, inline SVG, no script, no external request. */
export function renderHtml(report: Report, prometheus?: PrometheusFile, series: readonly SeriesFile[] = []): string {
  const order = new Map(report.functions.map((r, i) => [r.function, i]));
  // Each function keeps one colour on every chart and in the table.
  const colorOf = (fn: string): string => colorAt(order.get(fn) ?? order.size);
  const table = functionTable(report, 'html');
  const hasBaseline = report.baselineDir !== undefined;
  const highlights = highlightLines(report);
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
    tableHtml(table.header, table.rows, {
      verdictColumn: table.header.length - 1,
      className: 'fn',
      caption: `Latencies in ms (client side${report.functions.some((r) => r.server) ? '; Srv: the control plane, from Prometheus' : ''}).${hasBaseline ? ' Changes against the baseline in %; hover a cell for the full change.' : ''}`,
      swatches: (r) => colorOf(report.functions[r]?.function ?? ''),
    }),
    ...(highlights.length > 0 ? [`<ul class="highlights">${highlights.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`] : []),
    ...findMaxHtml(report.resultsDir, colorOf),
    ...perFunctionCharts(report, colorOf),
    ...overTimeSection(series, prometheus, colorOf),
    '<h2>Per runtime</h2>',
    tableHtml(RUNTIME_HEADER, runtimeCells(report, 'html')),
    `<p><strong>${esc(verdictLine(report))}</strong></p>`,
    '</body></html>',
    '',
  ].join('\n');
}
