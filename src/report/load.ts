import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { PrometheusFile } from '../loadtest/prometheus.js';
import { FIND_MAX_FILE } from '../loadtest/find-max.js';
import { PROMETHEUS_FILE, WINDOWS_FILE, type TestWindow } from '../loadtest/results.js';
import { readRunFile, RUN_FILE, RunFileError, type RunFile } from '../loadtest/run-info.js';
import { Summary } from '../loadtest/summary.js';
import { readSeries, SERIES_SUFFIX, SeriesError, type SeriesFile } from '../loadtest/timeseries.js';

/** A result file the report cannot use; the message names the file. */
export class ReportError extends Error {
  override name = 'ReportError';
}

export interface RunRecord {
  function: string;
  runtime: string;
  file: string;
  summary: Summary;
}

export interface Results {
  dir: string;
  runs: RunRecord[];
  windows: TestWindow[];
  prometheus: PrometheusFile | undefined;
  /** How the run was made (run.json); undefined for results written before loadtest recorded it. */
  run: RunFile | undefined;
  /** Per-second samples of the functions that have a `<fn>.series.json`, in run order. */
  series: SeriesFile[];
}

/** Files in a results directory that are not per-function summaries. */
const NOT_SUMMARIES = new Set([PROMETHEUS_FILE, RUN_FILE, 'report.json', FIND_MAX_FILE]);

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReportError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${path}: corrupt result file, not valid JSON (${(error as Error).message})`);
  }
}

function readWindows(dir: string): TestWindow[] {
  const path = join(dir, WINDOWS_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as TestWindow;
      } catch {
        throw new ReportError(`${path}:${i + 1}: corrupt test window line, not valid JSON`);
      }
    });
}

/** `word-stats-java` → `java` when nothing better is known. */
function runtimeFromName(fn: string): string {
  return fn.slice(fn.lastIndexOf('-') + 1) || 'unknown';
}

/**
 * Read every `<fn>.json` summary of a results directory (k6 or built-in engine), the test
 * windows and the Prometheus snapshots. Any unreadable or malformed file is a ReportError.
 */
export function loadResults(dir: string, suggest: (command: string) => string = (command) => `nanofaas ${command}`): Results {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ReportError(`${dir}: results directory not found (run \`${suggest('loadtest')}\` first, or pass --results-dir)`);
  }
  const windows = readWindows(dir);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !NOT_SUMMARIES.has(name) && !name.endsWith(SERIES_SUFFIX))
    .sort();
  if (files.length === 0) throw new ReportError(`${dir}: no load-test summaries (<function>.json) found`);
  const runs = files.map((name): RunRecord => {
    const file = join(dir, name);
    const raw = readJson(file);
    if (!Value.Check(Summary, raw)) {
      const first = Value.Errors(Summary, raw).First();
      throw new ReportError(`${file}: corrupt result file, ${first ? `${first.path || '/'} ${first.message}` : 'not a k6 summary'}`);
    }
    const fn = raw.nanofaas?.function ?? name.slice(0, -'.json'.length);
    const window = windows.filter((w) => w.function === fn).at(-1);
    return { function: fn, runtime: raw.nanofaas?.runtime ?? window?.runtime ?? runtimeFromName(fn), file, summary: raw };
  });
  // Run order (the test windows) reads better than file order; unknown ones go last.
  const position = (fn: string) => {
    const i = windows.findIndex((w) => w.function === fn);
    return i < 0 ? windows.length : i;
  };
  runs.sort((a, b) => position(a.function) - position(b.function) || a.function.localeCompare(b.function));
  const promPath = join(dir, PROMETHEUS_FILE);
  const prometheus = existsSync(promPath) ? (readJson(promPath) as PrometheusFile) : undefined;
  if (prometheus !== undefined && !Array.isArray(prometheus.windows)) {
    throw new ReportError(`${promPath}: corrupt result file, expected {prometheusUrl, windows: [...]}`);
  }
  let run: RunFile | undefined;
  try {
    run = readRunFile(dir);
  } catch (error) {
    if (error instanceof RunFileError) throw new ReportError(error.message);
    throw error;
  }
  const series: SeriesFile[] = [];
  for (const r of runs) {
    try {
      const file = readSeries(dir, r.function);
      if (file) series.push(file);
    } catch (error) {
      if (error instanceof SeriesError) throw new ReportError(error.message);
      throw error;
    }
  }
  return { dir, runs, windows, prometheus, run, series };
}
