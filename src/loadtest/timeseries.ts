import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * One function's run second by second: `<results>/<fn>.series.json`. Both engines write it (the
 * built-in one from RunStats, k6 from its `--out json` points) and the report reads it; this schema
 * is the contract between them.
 */

export const SERIES_SUFFIX = '.series.json';

export const SeriesSample = Type.Object({
  /** Whole seconds since the function's start: the sample covers [t, t + 1). */
  t: Type.Integer({ minimum: 0 }),
  /** Requests that completed in this second (k6: its http_reqs in the second). */
  requests: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  /** Latency percentiles of this second's requests in ms; null when none completed. */
  p50: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  p95: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  p99: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** The most VUs running at once during the second. */
  vus: Type.Integer({ minimum: 0 }),
  /** Open-model runs: iterations due in this second that found no free VU. */
  dropped: Type.Integer({ minimum: 0 }),
});
export type SeriesSample = Static<typeof SeriesSample>;

export const SeriesFile = Type.Object({
  schemaVersion: Type.Literal(1),
  function: Type.String(),
  engine: Type.Union([Type.Literal('builtin'), Type.Literal('k6')]),
  /** Wall-clock time of t = 0 (ISO 8601). */
  start: Type.String(),
  samples: Type.Array(SeriesSample),
});
export type SeriesFile = Static<typeof SeriesFile>;

export class SeriesError extends Error {
  override name = 'SeriesError';
}

export function seriesPath(dir: string, fn: string): string {
  return join(dir, `${fn}${SERIES_SUFFIX}`);
}

export function writeSeries(dir: string, file: SeriesFile): string {
  mkdirSync(dir, { recursive: true });
  const path = seriesPath(dir, file.function);
  // One sample per line: readable with grep/jq, and a long run stays diffable.
  const samples = file.samples.map((s) => JSON.stringify(s)).join(',\n    ');
  const { samples: _, ...head } = file;
  writeFileSync(path, `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "samples": [\n    ${samples}\n  ]\n}\n`);
  return path;
}

/** The series of one function, or undefined when the run wrote none (older results, a k6 run without points). */
export function readSeries(dir: string, fn: string): SeriesFile | undefined {
  const path = seriesPath(dir, fn);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SeriesError(`${path}: corrupt series file, not valid JSON (${(error as Error).message})`);
  }
  if (!Value.Check(SeriesFile, raw)) {
    const first = Value.Errors(SeriesFile, raw).First();
    throw new SeriesError(`${path}: corrupt series file, ${first ? `${first.path || '/'} ${first.message}` : 'not a series'}`);
  }
  return raw;
}

/**
 * Latencies of one second in log-spaced buckets 1% wide: percentiles within 1%, and at most a
 * few hundred buckets however many requests the second holds.
 */
class SecondHistogram {
  private static readonly GROWTH = Math.log(1.01);
  /** bucket → how many, and the largest latency that fell in it. */
  private readonly buckets = new Map<number, { count: number; max: number }>();
  private total = 0;

  record(ms: number): void {
    const bucket = Math.ceil(Math.log(Math.max(1, ms * 1000)) / SecondHistogram.GROWTH);
    const entry = this.buckets.get(bucket);
    if (entry) {
      entry.count += 1;
      entry.max = Math.max(entry.max, ms);
    } else this.buckets.set(bucket, { count: 1, max: ms });
    this.total += 1;
  }

  /** Nearest rank: the largest latency seen in the bucket that holds it, so at most 1% high and exact for repeated values. */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    let last = 0;
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      const entry = this.buckets.get(bucket) ?? { count: 0, max: 0 };
      seen += entry.count;
      last = entry.max;
      if (seen >= rank) break;
    }
    return round3(last);
  }
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

interface OpenSecond {
  requests: number;
  failed: number;
  latency: SecondHistogram;
  vus: number;
  /** The count the second ended with: what an untouched second after it inherits. */
  lastVus: number;
  dropped: number;
}

/**
 * Buckets events by whole second since the start. Only the last few seconds stay open (k6 flushes
 * its points slightly out of order); older ones are reduced to their sample, so memory is one
 * small row per second. A request arriving for a second already closed still counts, but no
 * longer moves that second's percentiles.
 */
export class SeriesRecorder {
  /** How many seconds behind the newest one a second stays open. */
  static readonly OPEN_SECONDS = 5;
  private readonly closed: SeriesSample[] = [];
  private readonly open = new Map<number, OpenSecond>();
  private newest = -1;
  /** VUs running now: a second with no change inherits it. */
  private vusNow = 0;
  /** The VU count the last closed second ended with. */
  private closedVus = 0;

  private second(t: number): OpenSecond | SeriesSample {
    const index = Math.max(0, Math.floor(t));
    const done = this.closed[index];
    if (done !== undefined) return done;
    let entry = this.open.get(index);
    if (entry === undefined) {
      entry = { requests: 0, failed: 0, latency: new SecondHistogram(), vus: this.vusNow, lastVus: this.vusNow, dropped: 0 };
      this.open.set(index, entry);
    }
    if (index > this.newest) {
      this.newest = index;
      this.closeBefore(index - SeriesRecorder.OPEN_SECONDS);
    }
    return entry;
  }

  /** A request that completed `t` seconds after the start. */
  request(t: number, durationMs: number, failed: boolean): void {
    const entry = this.second(t);
    entry.requests += 1;
    if (failed) entry.failed += 1;
    if ('latency' in entry) entry.latency.record(durationMs);
  }

  /** A failure reported apart from its request (k6's http_req_failed point). */
  failure(t: number): void {
    this.second(t).failed += 1;
  }

  vus(t: number, count: number): void {
    this.vusNow = count;
    const entry = this.second(t);
    entry.vus = Math.max(entry.vus, count);
    if ('lastVus' in entry) entry.lastVus = count;
  }

  dropped(t: number, count = 1): void {
    this.second(t).dropped += count;
  }

  private closeBefore(limit: number): void {
    for (let index = this.closed.length; index < limit; index++) {
      const entry = this.open.get(index);
      this.open.delete(index);
      if (entry) this.closedVus = entry.lastVus;
      this.closed[index] = entry
        ? {
            t: index,
            requests: entry.requests,
            failed: entry.failed,
            p50: entry.latency.percentile(50),
            p95: entry.latency.percentile(95),
            p99: entry.latency.percentile(99),
            vus: entry.vus,
            dropped: entry.dropped,
          }
        : // A second nobody touched: nothing completed, the VU count carried from before.
          { t: index, requests: 0, failed: 0, p50: null, p95: null, p99: null, vus: this.closedVus, dropped: 0 };
    }
  }

  /** Every second from 0 to `until` (exclusive, in seconds since the start) or the last one recorded. */
  samples(until?: number): SeriesSample[] {
    const last = until === undefined ? this.newest + 1 : Math.max(this.newest + 1, Math.ceil(until));
    // Seconds after the last event keep the VU count the run ended with.
    if (last > this.newest + 1) this.second(last - 1);
    this.closeBefore(last);
    return this.closed.slice(0, last);
  }
}

/** A k6 `--out json` line; only Points matter here. */
interface K6Line {
  type?: string;
  metric?: string;
  data?: { time?: string; value?: number };
}

/**
 * Convert k6's `--out json` points (plain or .gz) into the series: http_req_duration gives the
 * requests and their latency, http_req_failed the failures, vus the VU count, dropped_iterations
 * the drops. As in k6's own summary, every HTTP exchange is a request (in async mode each poll too).
 * t = 0 is the first point k6 wrote. The file is streamed: k6 writes its points nearly in time
 * order, which is all the recorder's open seconds need, so a long run costs one row per second.
 */
export async function seriesFromK6Points(path: string, fn: string): Promise<SeriesFile> {
  let origin: number | undefined;
  const recorder = new SeriesRecorder();
  const input = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let parsed: K6Line;
    try {
      parsed = JSON.parse(line) as K6Line;
    } catch {
      throw new SeriesError(`${path}:${lineNo}: not a k6 JSON output line`);
    }
    if (parsed.type !== 'Point' || parsed.metric === undefined || !K6_METRICS.has(parsed.metric)) continue;
    const time = Date.parse(parsed.data?.time ?? '');
    const value = parsed.data?.value;
    if (!Number.isFinite(time) || typeof value !== 'number') throw new SeriesError(`${path}:${lineNo}: a k6 point without time or value`);
    origin ??= time;
    const t = (time - origin) / 1000;
    if (parsed.metric === 'http_req_duration') recorder.request(t, value, false);
    else if (parsed.metric === 'http_req_failed') {
      if (value !== 0) recorder.failure(t);
    } else if (parsed.metric === 'vus') recorder.vus(t, value);
    else recorder.dropped(t, value);
  }
  if (origin === undefined) throw new SeriesError(`${path}: k6 wrote no http_req_duration, http_req_failed or vus points`);
  return { schemaVersion: 1, function: fn, engine: 'k6', start: new Date(origin).toISOString(), samples: recorder.samples() };
}

const K6_METRICS = new Set(['http_req_duration', 'http_req_failed', 'vus', 'dropped_iterations']);
