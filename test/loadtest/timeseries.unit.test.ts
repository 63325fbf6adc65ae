import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Value } from '@sinclair/typebox/value';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStats } from '../../src/loadtest/stats.js';
import { k6PointsFixture } from './k6-points-fixture.js';
import { readSeries, SeriesFile, SeriesRecorder, seriesFromK6Points, seriesPath, writeSeries } from '../../src/loadtest/timeseries.js';

const work = mkdtempSync(join(tmpdir(), 'timeseries-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; at: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, at: (ms) => (t = 1_000 + ms) };
}

describe('RunStats per-second series (built-in engine)', () => {
  it('buckets requests, failures, percentiles, VUs and drops by second since the start', () => {
    const clock = manualClock();
    const stats = new RunStats({ now: clock.now });
    clock.at(0);
    stats.setActiveVus(2);
    // Second 0: 100 requests of 1..100 ms, 3 failed.
    for (let i = 1; i <= 100; i++) {
      clock.at(i * 9);
      stats.recordRequest(i, i <= 3);
    }
    clock.at(1_500);
    stats.setActiveVus(5);
    stats.recordRequest(200, false);
    stats.setActiveVus(4);
    // Nothing in second 2; second 3 has a drop and one slow request.
    clock.at(3_200);
    stats.recordDropped();
    stats.recordRequest(150, false);
    clock.at(4_100); // the run ends 0.1 s into second 4
    const samples = stats.seriesSamples();
    expect(samples.map((s) => s.t)).toEqual([0, 1, 2, 3, 4]);
    const [s0, s1, s2, s3, s4] = samples;
    expect(s0).toMatchObject({ requests: 100, failed: 3, vus: 2, dropped: 0 });
    // Within the histogram's 1% of the exact nearest-rank values 50, 95, 99.
    expect(s0?.p50).toBeCloseTo(50, -0.3);
    expect(Math.abs((s0?.p95 ?? 0) - 95) / 95).toBeLessThan(0.01);
    expect(Math.abs((s0?.p99 ?? 0) - 99) / 99).toBeLessThan(0.01);
    expect(s1).toEqual({ t: 1, requests: 1, failed: 0, p50: 200, p95: 200, p99: 200, vus: 5, dropped: 0 });
    // An idle second keeps the count the previous one ended with (4, not its peak of 5).
    expect(s2).toEqual({ t: 2, requests: 0, failed: 0, p50: null, p95: null, p99: null, vus: 4, dropped: 0 });
    expect(s3).toMatchObject({ requests: 1, dropped: 1, p95: 150, vus: 4 });
    expect(s4).toMatchObject({ requests: 0, vus: 4 });
    // The series adds up to the summary.
    expect(samples.reduce((n, s) => n + s.requests, 0)).toBe(stats.requests);
    expect(samples.reduce((n, s) => n + s.failed, 0)).toBe(stats.failed);
    expect(samples.reduce((n, s) => n + s.dropped, 0)).toBe(stats.dropped);
    expect(Value.Check(SeriesFile, stats.toSeries('f'))).toBe(true);
  });

  it('keeps memory to one row per second on a long run', () => {
    const recorder = new SeriesRecorder();
    // An hour at 50 req/s: only the newest few seconds stay open.
    for (let second = 0; second < 3600; second++) {
      for (let i = 0; i < 50; i++) recorder.request(second + i / 50, 1 + (i % 10), false);
    }
    const open = (recorder as unknown as { open: Map<number, unknown> }).open;
    expect(open.size).toBeLessThanOrEqual(SeriesRecorder.OPEN_SECONDS + 1);
    const samples = recorder.samples();
    expect(samples).toHaveLength(3600);
    expect(samples.every((s) => s.requests === 50 && s.p50 === 5)).toBe(true);
  });

  it('writes <fn>.series.json that reads back through the schema; a corrupt one names the file', () => {
    const stats = new RunStats();
    stats.setActiveVus(1);
    stats.recordRequest(3.2, false);
    const file = stats.toSeries('word-stats-node');
    const path = writeSeries(work, file);
    expect(path).toBe(seriesPath(work, 'word-stats-node'));
    expect(readSeries(work, 'word-stats-node')).toEqual(file);
    expect(readSeries(work, 'absent')).toBeUndefined();
    writeFileSync(seriesPath(work, 'broken'), JSON.stringify({ ...file, function: 'broken', samples: [{ t: -1 }] }));
    expect(() => readSeries(work, 'broken')).toThrow(/broken\.series\.json: corrupt series file, \/samples\/0/);
  });
});

describe('k6 --out json → series', () => {
  it('converts the recorded points (plain and gzipped) into the same series shape', async () => {
    const plain = join(work, 'points.json');
    writeFileSync(plain, k6PointsFixture());
    const gz = join(work, 'points.json.gz');
    writeFileSync(gz, gzipSync(k6PointsFixture()));
    for (const path of [plain, gz]) {
      const file = await seriesFromK6Points(path, 'word-stats-python');
      expect(Value.Check(SeriesFile, file)).toBe(true);
      expect(file).toMatchObject({ function: 'word-stats-python', engine: 'k6', start: '2026-01-01T09:00:00.000Z' });
      const [s0, s1, s2] = file.samples;
      expect(file.samples).toHaveLength(3);
      expect(s0).toMatchObject({ t: 0, requests: 20, failed: 0, vus: 1, dropped: 0 });
      expect(Math.abs((s0?.p50 ?? 0) - 4) / 4).toBeLessThan(0.01);
      expect(s0?.p99).toBe(6);
      expect(s1).toMatchObject({ t: 1, requests: 30, failed: 1, vus: 3, p50: 10, p99: 150 });
      expect(s2).toEqual({ t: 2, requests: 0, failed: 0, p50: null, p95: null, p99: null, vus: 3, dropped: 2 });
    }
  });

  it('says which line is not k6 output', async () => {
    const path = join(work, 'bad.json');
    writeFileSync(path, `${k6PointsFixture()}{oops\n`);
    await expect(seriesFromK6Points(path, 'f')).rejects.toThrow(/bad\.json:\d+: not a k6 JSON output line/);
    writeFileSync(path, '');
    await expect(seriesFromK6Points(path, 'f')).rejects.toThrow(/no http_req_duration/);
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});
