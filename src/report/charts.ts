/**
 * Hand-drawn SVG charts for the HTML report: no library, no external assets, no script.
 * Every function returns one self-contained <svg class="chart"> element as a string, `width`
 * wide (the page scales it down, never up). Axes read like a person would draw them: round
 * 1-2-5 ticks, decades on a log scale, time in seconds from each function's start.
 */

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f', '#ff9da7', '#79706e'];

export const colorAt = (index: number): string => PALETTE[index % PALETTE.length] ?? '#333';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The smallest 1, 2 or 5 × 10^n that is ≥ value. */
export function niceStep(value: number): number {
  if (!(value > 0)) return 1;
  const exponent = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * exponent >= value * (1 - 1e-9)) return step * exponent;
  return 10 * exponent;
}

/** Round ticks from 0 to at least max, about `count` of them, in 1-2-5 steps. */
export function linearTicks(max: number, count = 5): number[] {
  const step = niceStep((max > 0 ? max : 1) / count);
  const top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 2; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/**
 * Log-axis ticks covering [min, max]: whole decades; within two decades also 2 and 5 of each,
 * so a 2–8 ms range still gets labels.
 */
export function logTicks(min: number, max: number): { ticks: number[]; lo: number; hi: number } {
  const lo = 10 ** Math.floor(Math.log10(min > 0 ? min : 1));
  let hi = 10 ** Math.ceil(Math.log10(max > 0 ? max : 1));
  if (hi <= lo) hi = lo * 10;
  const fine = hi / lo <= 100;
  const ticks: number[] = [];
  for (let decade = lo; decade < hi * 1.0001; decade *= 10) {
    for (const m of fine ? [1, 2, 5] : [1]) {
      const v = Number((decade * m).toPrecision(12));
      if (v <= hi * 1.0001) ticks.push(v);
    }
  }
  return { ticks, lo, hi };
}

/** Time ticks in seconds from 0 past maxSeconds: a round step giving at most a dozen or so (every 10 s for a 2-minute run). */
export function timeTicks(maxSeconds: number): number[] {
  const span = Math.max(1, maxSeconds);
  const step =
    [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200].find((s) => span / s <= 12) ?? 3600 * Math.ceil(span / 43200);
  const ticks: number[] = [];
  // Up to the first tick at or past the end, so the axis covers every point.
  for (let t = 0; ticks.at(-1) === undefined || (ticks.at(-1) as number) < span - 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** One unit for a whole time axis: seconds up to 10 minutes, then minutes, then hours. */
export function timeUnit(axisEndSeconds: number): { name: string; seconds: number } {
  if (axisEndSeconds < 600) return { name: 'seconds', seconds: 1 };
  if (axisEndSeconds < 3 * 3600) return { name: 'minutes', seconds: 60 };
  return { name: 'hours', seconds: 3600 };
}

export function timeLabel(seconds: number, unit = timeUnit(seconds)): string {
  return tickLabel(Number((seconds / unit.seconds).toPrecision(4)));
}

/** 0.5, 2, 15, 150, 1.5k: short and exact for the tick values the scales produce. */
export function tickLabel(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

const FONT = 'font-family="system-ui,sans-serif" font-size="12" fill="#333"';
const SMALL = 'font-family="system-ui,sans-serif" font-size="11" fill="#555"';

function frame(width: number, height: number, title: string, subtitle: string, metric: string, body: string[]): string {
  return [
    `<svg class="chart" data-metric="${escapeXml(metric)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="8" y="18" font-family="system-ui,sans-serif" font-size="14" font-weight="600" fill="#222">${escapeXml(title)}</text>`,
    subtitle ? `<text x="8" y="34" ${SMALL}>${escapeXml(subtitle)}</text>` : '',
    ...body,
    '</svg>',
  ].join('\n');
}

export interface NamedColor {
  name: string;
  color: string;
}

/** Legend entries laid out in rows under the plot; returns the SVG and the height it takes. */
function legendRows(entries: readonly NamedColor[], left: number, top: number, width: number): { svg: string[]; height: number } {
  const svg: string[] = [];
  let x = left;
  let y = top;
  for (const entry of entries) {
    // About 6.5 px per character at 12 px: enough for the function names we draw.
    const w = 22 + entry.name.length * 6.5 + 14;
    if (x + w > left + width && x > left) {
      x = left;
      y += 18;
    }
    svg.push(
      `<rect x="${x}" y="${y}" width="14" height="4" rx="1" fill="${entry.color}"/>`,
      `<text x="${x + 19}" y="${y + 6}" ${FONT}>${escapeXml(entry.name)}</text>`,
    );
    x += w;
  }
  return { svg, height: entries.length === 0 ? 0 : y - top + 18 };
}

/** A value axis, linear or log, mapping values to y pixels. */
interface ValueAxis {
  y(value: number): number;
  ticks: number[];
  /** Gridlines without labels (the 2–9 of each decade on a wide log axis). */
  minor: number[];
}

function valueAxis(scale: 'linear' | 'log', values: readonly number[], top: number, plotH: number): ValueAxis {
  if (scale === 'log') {
    const positive = values.filter((v) => v > 0);
    const { ticks, lo, hi } = logTicks(Math.min(...positive, Number.POSITIVE_INFINITY), Math.max(...positive, 0));
    const span = Math.log10(hi) - Math.log10(lo);
    const minor: number[] = [];
    if (span > 2) for (let d = lo; d < hi; d *= 10) for (let m = 2; m <= 9; m++) minor.push(d * m);
    return { y: (v) => top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * plotH, ticks, minor };
  }
  const ticks = linearTicks(Math.max(0, ...values));
  const max = ticks.at(-1) ?? 1;
  return { y: (v) => top + plotH - (v / max) * plotH, ticks, minor: [] };
}

function yGrid(axis: ValueAxis, left: number, plotW: number, label: string, top: number, plotH: number): string[] {
  const out = axis.minor.map((v) => {
    const y = axis.y(v).toFixed(1);
    return `<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#f0f0f0"/>`;
  });
  for (const v of axis.ticks) {
    const y = axis.y(v).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#dedede"/>`);
    out.push(`<text class="ytick" x="${left - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end" ${SMALL}>${tickLabel(v)}</text>`);
  }
  out.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" ${SMALL}>${escapeXml(label)}</text>`);
  return out;
}

export interface TimeSeriesLine extends NamedColor {
  /** [seconds since this function's start, value]; null values break the line (no sample). */
  points: readonly (readonly [number, number | null])[];
}

/** One line per function over time, all functions on one chart. */
export function timeSeriesChart(options: {
  title: string;
  subtitle?: string;
  metric: string;
  yLabel: string;
  scale: 'linear' | 'log';
  lines: readonly TimeSeriesLine[];
  width?: number;
}): string {
  const width = options.width ?? 580;
  const left = 56;
  const right = 16;
  // The subtitle always has a line: it names the time axis's unit.
  const top = 48;
  const plotW = width - left - right;
  const plotH = 200;
  const legend = legendRows(options.lines, left, top + plotH + 28, plotW);
  const height = top + plotH + 28 + legend.height + 4;
  const usable = (v: number | null): v is number => v !== null && Number.isFinite(v) && (options.scale === 'linear' || v > 0);
  const values = options.lines.flatMap((l) => l.points.map(([, v]) => v).filter(usable));
  const body: string[] = [];
  if (values.length === 0) {
    body.push(`<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" ${FONT}>no samples</text>`);
    return frame(width, height, options.title, options.subtitle ?? '', options.metric, [...body, ...legend.svg]);
  }
  const axis = valueAxis(options.scale, values, top, plotH);
  // A sample at t covers [t, t + 1): the axis runs to the end of the last one.
  const xTicks = timeTicks(Math.max(1, ...options.lines.flatMap((l) => l.points.map(([t]) => t + 1))));
  const xMax = xTicks.at(-1) ?? 1;
  const unit = timeUnit(xMax);
  const sx = (t: number) => left + (t / xMax) * plotW;
  body.push(...yGrid(axis, left, plotW, options.yLabel, top, plotH));
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    body.push(`<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#888"/>`);
    body.push(`<text class="xtick" x="${x}" y="${top + plotH + 17}" text-anchor="middle" ${SMALL}>${timeLabel(t, unit)}</text>`);
  }
  body.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  for (const line of options.lines) {
    // Consecutive usable points form one run of the path; a missing second starts a new one.
    let d = '';
    let pen = false;
    let drawn = 0;
    for (const [t, v] of line.points) {
      if (!usable(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(t).toFixed(1)},${axis.y(v).toFixed(1)} `;
      pen = true;
      drawn += 1;
    }
    if (drawn === 0) continue;
    // A lone point still shows: a short tick.
    if (drawn === 1) d += 'h3';
    body.push(
      `<path class="series" d="${d.trim()}" fill="none" stroke="${line.color}" stroke-width="1.6" stroke-linejoin="round"><title>${escapeXml(line.name)}</title></path>`,
    );
  }
  const subtitle = `${options.subtitle ? `${options.subtitle}; ` : ''}x: ${unit.name} from each function's start`;
  return frame(width, height, options.title, subtitle, options.metric, [...body, ...legend.svg]);
}

export interface LatencyRow {
  name: string;
  color: string;
  p50: number;
  p95: number;
  p99: number | null;
  /** The baseline's p95, drawn as a hollow mark. */
  baselineP95?: number | null;
}

/**
 * Percentiles per function on a log axis, one row each: a bar from p50 to p99 with marks at
 * p50, p95 and p99, so 2 ms and 150 ms functions are both readable on one chart.
 */
export function latencyChart(options: { title: string; subtitle?: string; rows: readonly LatencyRow[]; width?: number }): string {
  const width = options.width ?? 580;
  const labelW = Math.min(190, 16 + Math.max(0, ...options.rows.map((r) => r.name.length)) * 6.8);
  const left = labelW;
  const right = 20;
  // Room for the title, the subtitle and the p50/p95/p99 key above the rows.
  const top = options.subtitle ? 64 : 50;
  const rowH = 26;
  const plotW = width - left - right;
  const plotH = Math.max(1, options.rows.length) * rowH;
  const values = options.rows.flatMap((r) => [r.p50, r.p95, r.p99 ?? r.p95, r.baselineP95 ?? r.p95]).filter((v) => v > 0);
  const { ticks, lo, hi } = logTicks(Math.min(...values, Number.POSITIVE_INFINITY), Math.max(...values, 0));
  const span = Math.log10(hi) - Math.log10(lo);
  const sx = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * plotW;
  const body: string[] = [];
  for (const v of ticks) {
    const x = sx(v).toFixed(1);
    body.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotH}" stroke="#dedede"/>`);
    body.push(`<text class="xtick" x="${x}" y="${top + plotH + 16}" text-anchor="middle" ${SMALL}>${tickLabel(v)}</text>`);
  }
  body.push(`<text x="${left + plotW}" y="${top + plotH + 32}" text-anchor="end" ${SMALL}>ms, log scale</text>`);
  options.rows.forEach((row, i) => {
    const cy = top + i * rowH + rowH / 2;
    const tip = `${row.name}: p50 ${tickLabel(row.p50)} ms, p95 ${tickLabel(row.p95)} ms${row.p99 !== null ? `, p99 ${tickLabel(row.p99)} ms` : ''}`;
    body.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end" ${FONT}>${escapeXml(row.name)}</text>`);
    if (!(row.p50 > 0)) return;
    const end = row.p99 ?? row.p95;
    body.push(
      `<g class="mark"><title>${escapeXml(tip)}</title>`,
      `<rect x="${sx(row.p50).toFixed(1)}" y="${cy - 4}" width="${Math.max(2, sx(end) - sx(row.p50)).toFixed(1)}" height="8" rx="2" fill="${row.color}" opacity="0.35"/>`,
      `<circle cx="${sx(row.p50).toFixed(1)}" cy="${cy}" r="4" fill="${row.color}"/>`,
      `<rect x="${(sx(row.p95) - 4).toFixed(1)}" y="${cy - 6}" width="8" height="12" fill="${row.color}"/>`,
      row.p99 !== null
        ? `<line x1="${sx(row.p99).toFixed(1)}" y1="${cy - 7}" x2="${sx(row.p99).toFixed(1)}" y2="${cy + 7}" stroke="${row.color}" stroke-width="2"/>`
        : '',
      row.baselineP95
        ? `<rect x="${(sx(row.baselineP95) - 4).toFixed(1)}" y="${cy - 6}" width="8" height="12" fill="none" stroke="#555" stroke-dasharray="2 1"/>`
        : '',
      '</g>',
    );
  });
  const keyY = top - 12;
  body.push(
    `<circle cx="${left + 4}" cy="${keyY}" r="4" fill="#666"/><text x="${left + 12}" y="${keyY + 4}" ${SMALL}>p50</text>`,
    `<rect x="${left + 42}" y="${keyY - 6}" width="8" height="12" fill="#666"/><text x="${left + 54}" y="${keyY + 4}" ${SMALL}>p95</text>`,
    `<line x1="${left + 88}" y1="${keyY - 7}" x2="${left + 88}" y2="${keyY + 7}" stroke="#666" stroke-width="2"/><text x="${left + 94}" y="${keyY + 4}" ${SMALL}>p99</text>`,
    ...(options.rows.some((r) => r.baselineP95)
      ? [
          `<rect x="${left + 128}" y="${keyY - 6}" width="8" height="12" fill="none" stroke="#555" stroke-dasharray="2 1"/><text x="${left + 140}" y="${keyY + 4}" ${SMALL}>baseline p95</text>`,
        ]
      : []),
  );
  return frame(width, top + plotH + 40, options.title, options.subtitle ?? '', 'latency', body);
}

export interface BarRow {
  name: string;
  color: string;
  value: number;
  baseline?: number | null;
}

/** Horizontal bars, one row per function, the value printed at the bar's end. */
export function barChart(options: {
  title: string;
  subtitle?: string;
  metric: string;
  unit: string;
  rows: readonly BarRow[];
  width?: number;
}): string {
  const width = options.width ?? 580;
  const labelW = Math.min(190, 16 + Math.max(0, ...options.rows.map((r) => r.name.length)) * 6.8);
  const left = labelW;
  const right = 56;
  const top = options.subtitle ? 64 : 50;
  const rowH = 26;
  const plotW = width - left - right;
  const plotH = Math.max(1, options.rows.length) * rowH;
  const ticks = linearTicks(Math.max(0, ...options.rows.flatMap((r) => [r.value, r.baseline ?? 0])), 5);
  const max = ticks.at(-1) ?? 1;
  const sx = (v: number) => left + (v / max) * plotW;
  const body: string[] = [];
  for (const v of ticks) {
    const x = sx(v).toFixed(1);
    body.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotH}" stroke="#dedede"/>`);
    body.push(`<text class="xtick" x="${x}" y="${top + plotH + 16}" text-anchor="middle" ${SMALL}>${tickLabel(v)}</text>`);
  }
  body.push(`<text x="${left + plotW}" y="${top + plotH + 32}" text-anchor="end" ${SMALL}>${escapeXml(options.unit)}</text>`);
  options.rows.forEach((row, i) => {
    const cy = top + i * rowH + rowH / 2;
    body.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end" ${FONT}>${escapeXml(row.name)}</text>`);
    const w = row.value > 0 ? Math.max(1, sx(row.value) - left) : 0;
    body.push(
      `<rect class="bar" x="${left}" y="${cy - 8}" width="${w.toFixed(1)}" height="16" fill="${row.color}"><title>${escapeXml(`${row.name}: ${tickLabel(row.value)} ${options.unit}`)}</title></rect>`,
      // Past the baseline mark too, so the two never overprint.
      `<text x="${(Math.max(left + w, row.baseline ? sx(row.baseline) + 2 : 0) + 4).toFixed(1)}" y="${cy + 4}" ${SMALL}>${tickLabel(Number(row.value.toFixed(1)))}</text>`,
    );
    if (row.baseline) {
      const x = sx(row.baseline).toFixed(1);
      body.push(
        `<line class="baseline" x1="${x}" y1="${cy - 11}" x2="${x}" y2="${cy + 11}" stroke="#333" stroke-width="2" stroke-dasharray="3 2"><title>${escapeXml(`baseline ${tickLabel(row.baseline)} ${options.unit}`)}</title></line>`,
      );
    }
  });
  if (options.rows.some((r) => r.baseline)) {
    body.push(
      `<line x1="${left}" y1="${top - 18}" x2="${left}" y2="${top - 6}" stroke="#333" stroke-width="2" stroke-dasharray="3 2"/><text x="${left + 6}" y="${top - 8}" ${SMALL}>baseline</text>`,
    );
  }
  return frame(width, top + plotH + 40, options.title, options.subtitle ?? '', options.metric, body);
}
