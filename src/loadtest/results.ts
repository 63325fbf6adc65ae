import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from './summary.js';

/**
 * Where one run's files go: `<dir>/<fn>.json`, `<dir>/<fn>.series.json` (timeseries.ts), `<dir>/<fn>.log`,
 * `<dir>/test-windows.jsonl`, and with k6 `<dir>/<fn>.k6.json.gz`.
 */
export const WINDOWS_FILE = 'test-windows.jsonl';
export const PROMETHEUS_FILE = 'prometheus.json';

export interface TestWindow {
  function: string;
  runtime: string;
  start: string;
  end: string;
}

export function summaryPath(dir: string, fn: string): string {
  return join(dir, `${fn}.json`);
}

/** k6's raw `--out json` points (gzipped: k6 compresses a .gz target), the source of `<fn>.series.json`. */
export function k6PointsPath(dir: string, fn: string): string {
  return join(dir, `${fn}.k6.json.gz`);
}

export function logPath(dir: string, fn: string): string {
  return join(dir, `${fn}.log`);
}

export function writeSummary(dir: string, fn: string, summary: Summary): string {
  mkdirSync(dir, { recursive: true });
  const path = summaryPath(dir, fn);
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  return path;
}

export function appendWindow(dir: string, window: TestWindow): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, WINDOWS_FILE), `${JSON.stringify(window)}\n`);
}

/** A line-oriented log for one function's run, timestamped, written as it happens. */
export function openRunLog(dir: string, fn: string): (line: string) => void {
  mkdirSync(dir, { recursive: true });
  const path = logPath(dir, fn);
  writeFileSync(path, '');
  return (line) => appendFileSync(path, `${new Date().toISOString()} ${line}\n`);
}
