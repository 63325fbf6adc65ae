import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindMaxFile } from '../../src/loadtest/find-max.js';
import { type InProcessRun, runInProcess } from '../cli/run-in-process.js';
import { loadtestEnv, type StandIn, startStandIn } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'find-max-cmd-'));

/**
 * A stand-in control plane on 127.0.0.1 whose word-stats-node has a capacity: a request that
 * arrives when more than CAPACITY arrived in the second before it fails with a 502.
 */
const CAPACITY = 40;
let standIn: StandIn;
const arrivals: number[] = [];

beforeAll(async () => {
  standIn = await startStandIn(['word-stats-node', 'word-stats-python'], (fn) => {
    if (fn !== 'word-stats-node') return undefined;
    const now = performance.now();
    arrivals.push(now);
    while ((arrivals[0] ?? now) < now - 1000) arrivals.shift();
    return arrivals.length > CAPACITY ? { status: 502, body: { error: 'FUNCTION_ERROR', message: 'over capacity' } } : undefined;
  });
});

afterAll(async () => {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
});

const cli = (args: string[]): Promise<InProcessRun> => runInProcess(args, { env: loadtestEnv(standIn.baseUrl, join(work, 'state')) });

describe('loadtest --find-max (against a stand-in with a capacity)', () => {
  it('finds the rate where failures pass 1%, writes find-max.json, the report figure, run.json and --json', async () => {
    const results = join(work, 'find-max');
    const r = await cli([
      '--json',
      'loadtest',
      '--find-max',
      '--slo',
      'p95<500ms',
      '--step-duration',
      '1s',
      '--start-rate',
      '10/s',
      '--functions',
      'word-stats-node',
      '--skip-parity',
      '--results-dir',
      results,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; findMax: FindMaxFile };
    expect(doc.ok).toBe(true);
    const file = JSON.parse(readFileSync(join(results, 'find-max.json'), 'utf8')) as unknown;
    expect(Value.Check(FindMaxFile, file)).toBe(true);
    expect(doc.findMax).toEqual(file);
    const [fn] = doc.findMax.functions;
    // 10, 15, 23, 35 hold; 53 fails well past 1% (everything over 40 in a second), then two steps narrow it.
    expect(fn?.maxRate).toBeGreaterThanOrEqual(35);
    expect(fn?.maxRate).toBeLessThanOrEqual(CAPACITY + 1);
    expect(fn?.stoppedBy).toBe('breach');
    expect(fn?.reason).toMatch(/% failed ≥ 1%/);
    expect(fn?.steps.slice(0, 5).map((s) => s.rate)).toEqual([10, 15, 23, 35, 53]);
    expect(doc.findMax.slo.expression).toBe('p95<500ms,failed<1%');
    // The summary of the highest rate that held is the function's result file.
    const summary = JSON.parse(readFileSync(join(results, 'word-stats-node.json'), 'utf8')) as {
      metrics: { iterations: { count: number } };
    };
    expect(summary.metrics.iterations.count).toBe(fn?.maxRate);
    const html = readFileSync(join(results, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Highest sustained rate (find-max)</h2>');
    expect(html).toContain('<svg class="chart find-max"');
    expect(readFileSync(join(results, 'report.md'), 'utf8')).toContain(`| word-stats-node | node | ${fn?.maxRate}/s |`);
    const run = JSON.parse(readFileSync(join(results, 'run.json'), 'utf8')) as { findMax?: { slo: string } };
    expect(run.findMax?.slo).toBe('p95<500ms,failed<1%');
  });

  it('--rate runs the open model: exactly rate × duration iterations, run.json records the arrival', async () => {
    const results = join(work, 'rate');
    const r = await cli([
      'loadtest',
      '--rate',
      '20/s',
      '--duration',
      '2s',
      '--functions',
      'word-stats-python',
      '--engine',
      'builtin',
      '--skip-parity',
      '--results-dir',
      results,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('rate: constant 20/s for 2s (10–200 VUs)');
    expect(r.stderr).toMatch(/word-stats-python: 2\/2s · 0 VUs · [\d.]+ req\/s avg of 20\/s · p95 [\d.]+ ms · 0 failed of 40 · 0 dropped/);
    const summary = JSON.parse(readFileSync(join(results, 'word-stats-python.json'), 'utf8')) as {
      metrics: { iterations: { count: number } };
    };
    expect(summary.metrics.iterations.count).toBe(40);
    const run = JSON.parse(readFileSync(join(results, 'run.json'), 'utf8')) as { arrival?: unknown };
    expect(run.arrival).toMatchObject({ rate: 20, duration: '2s', timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 200 });
    expect(r.stdout).toContain('Load:       arrival rate 20/1s for 2s (open model, 10–200 VUs), cool-down 10 s');
  });

  it('refuses bad or misplaced options in one line (exit 2)', async () => {
    for (const [args, message] of [
      [['--find-max'], "--find-max needs --slo, e.g. --slo 'p95<20ms'"],
      [['--find-max', '--slo', 'p96<20ms'], "--slo 'p96<20ms': percentile p96 is not one of p50, p90, p95, p99"],
      [['--find-max', '--slo', 'fast'], "--slo 'fast' is not an SLO"],
      [['--slo', 'p95<20ms'], '--slo goes with --find-max'],
      [['--step-duration', '2s'], '--step-duration goes with --find-max'],
      [['--rate', 'fast'], "--rate: invalid rate 'fast'"],
      [['--rate', '10/s'], '--rate needs --duration (e.g. --rate 100/s --duration 30s)'],
      [['--rate', '10/s', '--stages', '1s:1'], "option '--rate <n/s>' cannot be used with option '--stages <list>'"],
      [['--find-max', '--slo', 'p95<1s', '--engine', 'k6'], "option '--find-max' cannot be used with option '--engine <engine>'"],
      [['--rate-stages', '10s:x'], 'invalid rate stage "10s:x"'],
      [['--rate-stages', '10s:0'], 'the arrival rate never rises above 0, so no iteration would start'],
      [['--find-max', '--slo', 'p95<1s', '--start-rate', '50/s', '--max-rate', '20/s'], '--max-rate 20/s is below --start-rate 50/s'],
    ] as const) {
      const r = await cli(['loadtest', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('target:')).length,
        r.stderr,
      ).toBeLessThanOrEqual(2);
    }
  });
});
