import type { Regression, Report } from './model.js';
import { formatFigure } from './tables.js';

/** Parse the --fail-on-regression value: a percentage, e.g. "10" or "7.5%". */
export function parsePct(text: string): number {
  const trimmed = text.trim().replace(/%$/, '');
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value) || value < 0) {
    throw new Error(`--fail-on-regression must be a percentage of 0 or more, e.g. 10, got '${text}'`);
  }
  return value;
}

/**
 * Functions whose p95 rose, or whose req/s fell, by more than `maxPct` percent of the baseline.
 * A function the baseline lacks, or whose baseline figure is 0, cannot regress.
 */
export function findRegressions(report: Report, maxPct: number): Regression[] {
  const found: Regression[] = [];
  for (const row of report.functions) {
    const p95 = row.changes?.p95;
    if (p95 && p95.pct !== null && p95.pct > maxPct) {
      found.push({ function: row.function, metric: 'p95', current: row.figures.p95, baseline: p95.baseline, pct: p95.pct });
    }
    const rps = row.changes?.rps;
    if (rps && rps.pct !== null && -rps.pct > maxPct) {
      found.push({ function: row.function, metric: 'rps', current: row.figures.rps, baseline: rps.baseline, pct: rps.pct });
    }
  }
  return found;
}

/** "word-stats-python p95 99.30 ms (baseline 66.20 ms, +50.0%)". */
export function regressionLine(r: Regression): string {
  const value = (n: number) => (r.metric === 'p95' ? `${formatFigure('p95', n)} ms` : formatFigure('rps', n));
  const pct = `${r.pct > 0 ? '+' : '−'}${Math.abs(r.pct).toFixed(1)}%`;
  return `${r.function} ${r.metric === 'p95' ? 'p95' : 'req/s'} ${value(r.current)} (baseline ${value(r.baseline)}, ${pct})`;
}
