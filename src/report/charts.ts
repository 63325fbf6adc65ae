/**
 * Hand-drawn SVG charts for the HTML report: no library, no external assets, no script.
 * Every function returns one self-contained <svg> element as a string.
 */

export interface Series {
  name: string;
  color: string;
}

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A round axis maximum ≥ value (1, 2, 2.5, 5 × 10^n) so the ticks read well. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exponent = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * exponent >= value) return step * exponent;
  return 10 * exponent;
}

function tickLabel(value: number): string {
  if (value >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  return String(+value.toFixed(2));
}

const FONT = 'font-family="system-ui,sans-serif" font-size="11" fill="#333"';

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-family="system-ui,sans-serif" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function yAxis(left: number, top: number, plotW: number, plotH: number, max: number, label: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" ${FONT}>${tickLabel(value)}</text>`);
  }
  out.push(`<text transform="translate(12 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT}>${escapeXml(label)}</text>`);
  return out;
}

function legend(series: readonly Series[], x: number, y: number): string[] {
  return series.flatMap((s, i) => [
    `<rect x="${x + i * 90}" y="${y}" width="10" height="10" fill="${s.color}"/>`,
    `<text x="${x + i * 90 + 14}" y="${y + 9}" ${FONT}>${escapeXml(s.name)}</text>`,
  ]);
}

/** Bars per category, one bar per series side by side (a single series gives plain bars). */
export function groupedBarChart(options: {
  title: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly (Series & { values: readonly (number | null)[] })[];
}): string {
  const { categories, series } = options;
  const left = 60;
  const top = 44;
  const groupW = Math.max(48, series.length * 16 + 20);
  const plotW = Math.max(320, categories.length * groupW);
  const plotH = 220;
  // Room on the right and below for the last category's slanted label.
  const width = left + plotW + 90;
  const height = top + plotH + 100;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const body = [...yAxis(left, top, plotW, plotH, max, options.yLabel), ...legend(series, left, 26)];
  const slot = plotW / Math.max(1, categories.length);
  const barW = Math.min(28, (slot - 12) / Math.max(1, series.length));
  categories.forEach((category, ci) => {
    const groupX = left + ci * slot + (slot - barW * series.length) / 2;
    series.forEach((s, si) => {
      const value = s.values[ci] ?? null;
      if (value === null) return;
      // A tiny non-zero value still gets a visible 1 px bar.
      const h = value > 0 ? Math.max(1, (plotH * value) / max) : 0;
      const x = groupX + si * barW;
      body.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${category} ${s.name}: ${tickLabel(value)}`)}</title></rect>`,
      );
    });
    const cx = left + ci * slot + slot / 2;
    body.push(`<text transform="translate(${cx.toFixed(1)} ${top + plotH + 12}) rotate(30)" ${FONT}>${escapeXml(category)}</text>`);
  });
  body.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  return frame(width, height, options.title, body);
}

/** Lines over time; x values are unix seconds, drawn relative to the first point. */
export function lineChart(options: {
  title: string;
  yLabel: string;
  series: readonly (Series & { points: readonly (readonly [number, number])[] })[];
}): string {
  const left = 60;
  const top = 44;
  const plotW = 420;
  const plotH = 180;
  const width = left + plotW + 20;
  const height = top + plotH + 40;
  const all = options.series.flatMap((s) => s.points);
  const body = [...legend(options.series, left, 26)];
  if (all.length === 0) {
    body.push(`<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" ${FONT}>no samples in this window</text>`);
    return frame(width, height, options.title, body);
  }
  const x0 = Math.min(...all.map(([t]) => t));
  const x1 = Math.max(x0 + 1, ...all.map(([t]) => t));
  const max = niceMax(Math.max(...all.map(([, v]) => v)));
  body.unshift(...yAxis(left, top, plotW, plotH, max, options.yLabel));
  const sx = (t: number) => left + ((t - x0) / (x1 - x0)) * plotW;
  const sy = (v: number) => top + plotH - (v / max) * plotH;
  for (const s of options.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
    // A single point still draws: a short horizontal tick.
    const path = s.points.length === 1 ? `${d} h4` : d;
    body.push(
      `<path class="series" d="${path}" fill="none" stroke="${s.color}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`,
    );
  }
  body.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  body.push(`<text x="${left}" y="${top + plotH + 16}" ${FONT}>0 s</text>`);
  body.push(`<text x="${left + plotW}" y="${top + plotH + 16}" text-anchor="end" ${FONT}>${Math.round(x1 - x0)} s</text>`);
  return frame(width, height, options.title, body);
}
