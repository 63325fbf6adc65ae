import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrometheusFile } from '../loadtest/prometheus.js';
import type { SeriesFile } from '../loadtest/timeseries.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './model.js';

export const REPORT_FORMATS = ['md', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const FILE_NAMES: Record<ReportFormat, string> = { md: 'report.md', html: 'report.html', json: 'report.json' };

/** Write the chosen formats into `outDir`; returns the paths written, in format order. */
export function writeReport(
  report: Report,
  prometheus: PrometheusFile | undefined,
  outDir: string,
  formats: readonly ReportFormat[],
  /** The per-second series the HTML page charts (report.json leaves them in their own files). */
  series: readonly SeriesFile[] = [],
): string[] {
  mkdirSync(outDir, { recursive: true });
  return formats.map((format) => {
    const path = join(outDir, FILE_NAMES[format]);
    const text =
      format === 'md'
        ? renderMarkdown(report)
        : format === 'html'
          ? renderHtml(report, prometheus, series)
          : `${JSON.stringify({ ...report, ...(prometheus ? { prometheus } : {}) }, null, 2)}\n`;
    writeFileSync(path, text);
    return path;
  });
}

export function parseFormats(spec: string): ReportFormat[] {
  const formats = spec
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const bad = formats.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || formats.length === 0) {
    throw new Error(`invalid --format "${spec}" (choose from ${REPORT_FORMATS.join(', ')}, comma-separated)`);
  }
  return [...new Set(formats)] as ReportFormat[];
}
