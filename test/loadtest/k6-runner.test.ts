import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { k6Command, runK6, type K6RunSpec } from '../../src/loadtest/k6-runner.js';
import { readSeries } from '../../src/loadtest/timeseries.js';
import { k6PointsFixture } from './k6-points-fixture.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'k6-runner-'));
const bin = join(work, 'bin');
const calls = join(work, 'calls.jsonl');
const pointsFixture = join(work, 'points-fixture.json');
writeFileSync(pointsFixture, k6PointsFixture());

/**
 * FAKE k6 (k6 is not installed here): records its argv and env, prints a line, writes the
 * --summary-export file the way k6 does, writes the recorded points FIXTURE to its --out json=
 * target (gzipped, as k6 does for a .gz name) unless FAKE_K6_NO_POINTS, and exits with FAKE_K6_EXIT.
 */
const FAKE_K6 = `#!/usr/bin/env node
const fs = require('node:fs');
const zlib = require('node:zlib');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ args }) + '\\n');
const out = args[args.indexOf('--summary-export') + 1];
const points = args[args.indexOf('--out') + 1].replace(/^json=/, '');
if (process.env.FAKE_K6_NO_POINTS !== '1') {
  const text = fs.readFileSync(${JSON.stringify(pointsFixture)});
  fs.writeFileSync(points, points.endsWith('.gz') ? zlib.gzipSync(text) : text);
}
const summarise = () => fs.writeFileSync(out, JSON.stringify({
    metrics: {
      http_reqs: { count: 120, rate: 12 },
      http_req_duration: { avg: 8, min: 1, med: 7, max: 40, 'p(90)': 12, 'p(95)': 15, 'p(99)': 30 },
      http_req_failed: { passes: 0, fails: 120, value: 0 },
      iterations: { count: 120, rate: 12 },
      vus: { value: 0, min: 0, max: 3 },
    },
    root_group: { name: '', path: '', id: 'x', groups: {}, checks: {} },
  }));
if (process.env.FAKE_K6_UNTIL_SIGINT === '1') {
  // Like k6 on Ctrl-C: stop, write the (partial) summary, exit 105 (ready before it says it runs).
  process.on('SIGINT', () => { summarise(); process.exit(105); });
  setInterval(() => {}, 1000);
}
console.log('fake k6: running ' + args[args.length - 1]);
if (process.env.FAKE_K6_UNTIL_SIGINT !== '1') {
  if (process.env.FAKE_K6_NO_SUMMARY !== '1') summarise();
  process.exit(Number(process.env.FAKE_K6_EXIT ?? '0'));
}
`;
mkdirSync(bin);
writeFileSync(join(bin, 'k6'), FAKE_K6);
chmodSync(join(bin, 'k6'), 0o755);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const spec = (over: Partial<K6RunSpec> = {}): K6RunSpec => ({
  rootDir: root,
  baseUrl: 'http://127.0.0.1:18080',
  function: 'word-stats-python',
  workload: 'word-stats',
  runtime: 'python',
  mode: 'sync',
  resultsDir: join(work, 'results'),
  env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
  ...over,
});

describe('k6 runner', () => {
  it('builds k6 run --summary-export with the function script and the overrides as -e', () => {
    const cmd = k6Command(spec({ stages: '5s:3,10s:8', thinkTimeSeconds: 0.5, mode: 'async' }));
    expect(cmd.command).toBe('k6');
    expect(cmd.args).toEqual([
      'run',
      '--quiet',
      '--summary-export',
      join(work, 'results', 'word-stats-python.json'),
      '--out',
      `json=${join(work, 'results', 'word-stats-python.k6.json.gz')}`,
      '-e',
      'NANOFAAS_URL=http://127.0.0.1:18080',
      '-e',
      'MODE=async',
      '-e',
      'STAGES=5s:3,10s:8',
      '-e',
      'THINK_TIME=0.5',
      join(root, 'k6', 'scripts', 'word-stats-python.js'),
    ]);
  });

  it('hands the script every replica’s API as NANOFAAS_URLS when there are several, and none for one', () => {
    const spread = k6Command(spec({ replicaUrls: ['http://127.0.0.1:18080', 'http://127.0.0.1:18090'] }));
    expect(spread.env.NANOFAAS_URLS).toBe('http://127.0.0.1:18080,http://127.0.0.1:18090');
    expect(spread.args).toContain('NANOFAAS_URLS=http://127.0.0.1:18080,http://127.0.0.1:18090');
    expect(spread.args).toContain('NANOFAAS_URL=http://127.0.0.1:18080');
    const single = k6Command(spec({ replicaUrls: ['http://127.0.0.1:18080'] }));
    expect(single.env.NANOFAAS_URLS).toBeUndefined();
    expect(single.args.some((a) => a.startsWith('NANOFAAS_URLS='))).toBe(false);
  });

  it('runs the k6 on PATH, tees its output into <fn>.log and stamps the summary', async () => {
    const lines: string[] = [];
    const thresholds = { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 };
    const result = await runK6(spec({ thresholds }), (l) => lines.push(l));
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([`fake k6: running ${join(root, 'k6', 'scripts', 'word-stats-python.js')}`]);
    const call = JSON.parse(readFileSync(calls, 'utf8').trim().split('\n').pop() ?? '{}') as { args: string[] };
    expect(call.args.slice(0, 3)).toEqual(['run', '--quiet', '--summary-export']);
    const written = JSON.parse(readFileSync(join(work, 'results', 'word-stats-python.json'), 'utf8'));
    expect(written.metrics.http_reqs.count).toBe(120);
    expect(written.metrics.vus.max).toBe(3); // k6's own metrics are kept
    expect(written.nanofaas).toMatchObject({ function: 'word-stats-python', runtime: 'python', engine: 'k6', mode: 'sync', thresholds });
    expect(readFileSync(join(work, 'results', 'word-stats-python.log'), 'utf8')).toContain('fake k6: running');
    // The points k6 wrote became the per-second series beside the summary.
    const series = readSeries(join(work, 'results'), 'word-stats-python');
    expect(series).toMatchObject({ function: 'word-stats-python', engine: 'k6' });
    expect(series?.samples.map((s) => [s.t, s.requests, s.failed, s.vus])).toEqual([
      [0, 20, 0, 1],
      [1, 30, 1, 3],
      [2, 0, 0, 3],
    ]);
  });

  it('a run without points still succeeds, with no series and a line saying why', async () => {
    const lines: string[] = [];
    const results = join(work, 'no-points');
    const result = await runK6(spec({ resultsDir: results, env: { ...spec().env, FAKE_K6_NO_POINTS: '1' } }), (l) => lines.push(l));
    expect(result.exitCode).toBe(0);
    expect(readSeries(results, 'word-stats-python')).toBeUndefined();
    expect(lines.at(-1)).toMatch(/^no time series: k6 wrote no points at .*word-stats-python\.k6\.json\.gz$/);
    expect(readFileSync(join(results, 'word-stats-python.log'), 'utf8')).toContain('no time series');
  });

  it('treats exit 99 (k6 thresholds crossed) as a verdict, other failures as errors', async () => {
    const env99 = { ...spec().env, FAKE_K6_EXIT: '99' };
    expect((await runK6(spec({ env: env99 }))).exitCode).toBe(99);
    await expect(runK6(spec({ env: { ...spec().env, FAKE_K6_EXIT: '107' } }))).rejects.toThrow(
      /exited with 107; see .*word-stats-python\.log/,
    );
    await expect(
      runK6(
        spec({
          function: 'json-transform-node',
          workload: 'json-transform',
          runtime: 'node',
          env: { ...spec().env, FAKE_K6_NO_SUMMARY: '1' },
        }),
      ),
    ).rejects.toThrow(/no readable summary at .*json-transform-node\.json/);
    await expect(runK6(spec({ function: 'not-in-catalog' }))).rejects.toThrow(/no k6 script for not-in-catalog/);
    await expect(runK6(spec({ env: { PATH: work } }))).rejects.toThrow(/cannot start k6/);
  });

  it('on the abort signal sends k6 one SIGINT and keeps its partial summary, marked interrupted', async () => {
    const abort = new AbortController();
    const results = join(work, 'interrupted');
    const result = await runK6(spec({ resultsDir: results, signal: abort.signal, env: { ...spec().env, FAKE_K6_UNTIL_SIGINT: '1' } }), () =>
      abort.abort(),
    );
    expect(result).toMatchObject({ exitCode: 105, interrupted: true });
    expect(JSON.parse(readFileSync(join(results, 'word-stats-python.json'), 'utf8')).nanofaas).toMatchObject({
      engine: 'k6',
      interrupted: true,
    });
  });
});
