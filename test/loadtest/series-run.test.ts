import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/loadtest/summary.js';
import { readSeries } from '../../src/loadtest/timeseries.js';
import { runInProcess } from '../cli/run-in-process.js';
import { loadtestEnv, type StandIn, startStandIn } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'loadtest-series-'));
let standIn: StandIn;
let calls = 0;

beforeAll(async () => {
  // word-stats-node answers every 7th call with a 503: the series must count those failures.
  standIn = await startStandIn(['word-stats-python', 'word-stats-node'], (fn) =>
    fn === 'word-stats-node' && ++calls % 7 === 0 ? { status: 503, body: { error: 'UNAVAILABLE', message: 'test' } } : undefined,
  );
});

afterAll(async () => {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a real built-in run writes <fn>.series.json', () => {
  it('one sample per second that adds up to the summary, and the report charts it', async () => {
    const dir = join(work, 'results');
    const r = await runInProcess(
      [
        'loadtest',
        '--engine',
        'builtin',
        '--skip-parity',
        '--cool-down',
        '0',
        '--stages',
        '1s:2,1500ms:3',
        '--think-time',
        '0.01',
        '--results-dir',
        dir,
      ],
      { env: loadtestEnv(standIn.baseUrl, join(work, 'state')) },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const fn of ['word-stats-python', 'word-stats-node']) {
      const summary = JSON.parse(readFileSync(join(dir, `${fn}.json`), 'utf8')) as Summary;
      const series = readSeries(dir, fn);
      expect(series, fn).toMatchObject({ schemaVersion: 1, function: fn, engine: 'builtin' });
      // t = 0 is when the engine set up its stats, a moment before the run's recorded start.
      expect(Math.abs(Date.parse(series?.start ?? '') - Date.parse(summary.nanofaas?.start ?? ''))).toBeLessThan(1000);
      const samples = series?.samples ?? [];
      // 2.5 s of stages plus the graceful stop: 3 seconds, a 4th when the last requests end just past it.
      expect(samples.map((s) => s.t)).toEqual([...Array(samples.length).keys()]);
      expect(samples.length).toBeGreaterThanOrEqual(3);
      expect(samples.length).toBeLessThanOrEqual(4);
      expect(samples.reduce((n, s) => n + s.requests, 0)).toBe(summary.metrics.http_reqs.count);
      expect(samples.reduce((n, s) => n + s.failed, 0)).toBe(summary.metrics.http_req_failed.passes);
      // The VUs ramp as k6's ramping-vus would: the peak is the summary's vus_max.
      expect(Math.max(...samples.map((s) => s.vus))).toBe(summary.metrics.vus_max?.value);
      expect(samples[0]?.vus).toBeGreaterThanOrEqual(1);
      for (const s of samples.filter((x) => x.requests > 0)) {
        expect(s.p50).not.toBeNull();
        expect(s.p50 as number).toBeLessThanOrEqual(s.p95 as number);
        expect(s.p95 as number).toBeLessThanOrEqual(s.p99 as number);
        // Samples are rounded to the microsecond.
        expect(s.p99 as number).toBeLessThanOrEqual(summary.metrics.http_req_duration.max + 0.0005);
      }
    }
    expect(readSeries(dir, 'word-stats-node')?.samples.some((s) => s.failed > 0)).toBe(true);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const metric of ['throughput-over-time', 'p95-over-time', 'failures-over-time', 'vus-over-time']) {
      expect(html).toContain(`data-metric="${metric}"`);
    }
  });
});
