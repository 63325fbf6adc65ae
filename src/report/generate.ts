import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfile, type LoadProfile } from '../loadtest/profile.js';
import type { PrometheusFile } from '../loadtest/prometheus.js';
import { loadResults } from './load.js';
import { buildReport, type Report } from './model.js';
import { findRegressions } from './regression.js';
import { writeReport, type ReportFormat } from './write.js';

export interface GenerateOptions {
  resultsDir: string;
  baselineDir?: string | undefined;
  formats: readonly ReportFormat[];
  outDir?: string | undefined;
  /** k6/profile.json: thresholds for summaries that do not carry their own (bare k6 exports). */
  profilePath?: string | undefined;
  /** A `nanofaas …` command line for a hint, keeping the user's global flags. */
  suggest?: (command: string) => string;
  /** With a baseline: the p95/req/s change (percent, worse) beyond which a function has regressed. */
  failOnRegressionPct?: number | undefined;
}

export interface Generated {
  report: Report;
  prometheus: PrometheusFile | undefined;
  paths: string[];
}

/** Load, build and write the report; every unusable input surfaces as a ReportError. */
export function generateReport(options: GenerateOptions): Generated {
  const results = loadResults(options.resultsDir, options.suggest);
  const baseline = options.baselineDir !== undefined ? loadResults(options.baselineDir, options.suggest) : undefined;
  let profile: LoadProfile | undefined;
  if (options.profilePath !== undefined && existsSync(options.profilePath)) profile = loadProfile(options.profilePath);
  const report = buildReport(results, {
    ...(baseline ? { baseline } : {}),
    fallbackThresholds: (runtime) => profile?.thresholds[runtime],
  });
  if (baseline && options.failOnRegressionPct !== undefined) {
    report.regressionCheck = { maxPct: options.failOnRegressionPct, regressions: findRegressions(report, options.failOnRegressionPct) };
  }
  const paths = writeReport(report, results.prometheus, options.outDir ?? options.resultsDir, options.formats, results.series);
  return { report, prometheus: results.prometheus, paths };
}

export function defaultResultsDir(rootDir: string): string {
  return join(rootDir, 'k6', 'results');
}
