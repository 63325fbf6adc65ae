import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunFile } from '../../src/loadtest/run-info.js';
import { gitCommit, k6Version } from '../../src/loadtest/run-info-collect.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { type InProcessRun, runInProcess } from '../cli/run-in-process.js';
import { loadtestEnv, type StandIn, startStandIn } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'loadtest-run-info-'));
const profile = JSON.parse(readFileSync(join(ROOT_DIR, 'k6', 'profile.json'), 'utf8')) as {
  thresholds: Record<string, { p95Ms: number; p99Ms: number; failedRate: number }>;
};
let standIn: StandIn;

beforeAll(async () => {
  standIn = await startStandIn(['word-stats-python', 'word-stats-node']);
});

afterAll(async () => {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<InProcessRun> {
  return runInProcess(args, { env: { ...loadtestEnv(standIn.baseUrl, join(work, 'state')), ...env } });
}

/** A short real run of the built-in engine against the stand-in; returns its results directory. */
async function load(name: string, extra: string[]): Promise<string> {
  const dir = join(work, name);
  const r = await cli(['loadtest', '--engine', 'builtin', '--skip-parity', '--cool-down', '0', '--results-dir', dir, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const SCALE = 1.6;

/**
 * The same run as if every call had taken 1.6 times as long: latencies × 1.6, rates and counts ÷ 1.6,
 * settings (run.json, test windows) unchanged.
 */
function slowerCopy(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (name === 'run.json' || name === 'test-windows.jsonl') {
      copyFileSync(join(from, name), join(to, name));
      continue;
    }
    // Summaries only: the report, and the per-second series (<fn>.series.json), are not.
    if (!name.endsWith('.json') || name === 'report.json' || name.endsWith('.series.json')) continue;
    const s = JSON.parse(readFileSync(join(from, name), 'utf8'));
    const m = s.metrics;
    for (const key of ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)']) m.http_req_duration[key] *= SCALE;
    for (const counter of [m.http_reqs, m.iterations]) {
      counter.count = Math.round(counter.count / SCALE);
      counter.rate /= SCALE;
    }
    m.http_req_failed = { passes: 0, fails: m.http_reqs.count, value: 0 };
    writeFileSync(join(to, name), JSON.stringify(s));
  }
}

/** The report's rounding, stated here on its own: ms with 2 decimals below 100, req/s with 1. */
const ms = (v: number) => (v < 100 ? v.toFixed(2) : v.toFixed(1));

let real: string;
let realRun: RunFile;

describe('run.json', () => {
  it('a real built-in run records its settings, versions, machine and times', async () => {
    const before = Date.now();
    real = await load('real', ['--stages', '300ms:2,600ms:2', '--think-time', '0.02']);
    const after = Date.now();
    const raw = JSON.parse(readFileSync(join(real, 'run.json'), 'utf8'));
    expect(Value.Check(RunFile, raw), JSON.stringify([...Value.Errors(RunFile, raw)].slice(0, 3))).toBe(true);
    realRun = raw as RunFile;
    const pkg = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
    expect(realRun).toMatchObject({
      schemaVersion: 1,
      engine: 'builtin',
      mode: 'sync',
      stages: [
        { duration: '300ms', target: 2 },
        { duration: '600ms', target: 2 },
      ],
      thinkTimeSeconds: 0.02,
      coolDownSeconds: 0,
      thresholds: { python: profile.thresholds.python, node: profile.thresholds.node },
      target: { name: 'local', apiUrl: standIn.baseUrl },
      nanofaas: { version: pkg.version, commit: head },
      versions: { node: process.version },
      host: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim(), platform: process.platform, arch: process.arch },
    });
    expect(Object.keys(realRun.thresholds).sort()).toEqual(['node', 'python']);
    expect(realRun.versions.k6).toBeUndefined();
    expect(realRun.interrupted).toBeUndefined();
    expect(realRun.functions.map((f) => [f.name, f.runtime, f.workload])).toEqual([
      ['word-stats-python', 'python', 'word-stats'],
      ['word-stats-node', 'node', 'word-stats'],
    ]);
    // The run spans both functions' windows and lies within the command's own lifetime.
    const start = Date.parse(realRun.start);
    const end = Date.parse(realRun.end);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(after);
    const windows = readFileSync(join(real, 'test-windows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { start: string; end: string });
    expect(windows).toHaveLength(2);
    expect(Date.parse(windows[0]?.start ?? '')).toBeGreaterThanOrEqual(start);
    expect(Date.parse(windows[1]?.end ?? '')).toBeLessThanOrEqual(end);
    // The report built from it carries the same record.
    expect(JSON.parse(readFileSync(join(real, 'report.json'), 'utf8')).run).toEqual(realRun);
  });

  it('the terminal report starts with how the run was made', async () => {
    const r = await cli(['report', '--results-dir', real, '--format', 'md']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const engine = lines.findIndex((l) => /^Engine: +builtin, sync mode$/.test(l));
    expect(engine).toBeGreaterThanOrEqual(0);
    expect(lines).toContainEqual(expect.stringMatching(/^Load: +stages 300ms:2,600ms:2, think time 0\.02 s, cool-down 0 s$/));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^nanofaas: +${realRun.nanofaas.version}, commit ${realRun.nanofaas.commit?.slice(0, 12)}$`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Machine: +${cpus().length} × `)));
    expect(lines).toContainEqual(`Target:     local (${standIn.baseUrl})`);
    expect(engine).toBeLessThan(lines.findIndex((l) => l.startsWith('Function')));
    expect(readFileSync(join(real, 'report.md'), 'utf8')).toContain('| Engine | builtin, sync mode |');
  });

  it('the commit is absent outside a git checkout, and k6 answers with its version', async () => {
    const outside = mkdtempSync(join(work, 'not-a-checkout-'));
    expect(await gitCommit(outside, { PATH: process.env.PATH ?? '' })).toBeUndefined();
    expect(await gitCommit(ROOT_DIR, { PATH: process.env.PATH ?? '' })).toBe(realRun.nanofaas.commit);
    const bin = mkdtempSync(join(work, 'bin-'));
    writeFileSync(join(bin, 'k6'), '#!/bin/sh\necho "k6 v0.99.1 (go1.22.0, linux/amd64)"\n');
    chmodSync(join(bin, 'k6'), 0o755);
    expect(await k6Version({ PATH: bin })).toBe('v0.99.1 (go1.22.0, linux/amd64)');
    expect(await k6Version({ PATH: outside })).toBeUndefined();
  });
});

describe('report --baseline with different settings', () => {
  it('warns once per difference on the terminal and in the page', async () => {
    const other = await load('other', ['--stages', '300ms:1,300ms:1', '--think-time', '0.05', '--runtimes', 'python']);
    const out = join(work, 'compare-out');
    const r = await cli(['report', '--results-dir', real, '--baseline', other, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const limits = (t: { p95Ms: number; p99Ms: number; failedRate: number }) =>
      `p95<${t.p95Ms} ms, p99<${t.p99Ms} ms, failed<${Number((t.failedRate * 100).toFixed(4))}%`;
    const expected = [
      'baseline differs in stages: 300ms:2,600ms:2 in this run, 300ms:1,300ms:1 in the baseline',
      'baseline differs in think time: 0.02 s in this run, 0.05 s in the baseline',
      `baseline differs in thresholds (node): ${limits(profile.thresholds.node!)} in this run, none in the baseline`,
      'baseline differs in functions: only in this run: word-stats-node',
    ];
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(expected.map((l) => `warning: ${l}`));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    for (const line of expected) expect(html).toContain(`<p class="warning">${esc(`warning: ${line}`)}</p>`);
    expect(html.match(/<p class="warning">/g)).toHaveLength(expected.length);
  });
});

describe('Δ colours and --fail-on-regression on a slower run', () => {
  let slower: string;
  beforeAll(() => {
    slower = join(work, 'slower');
    slowerCopy(real, slower);
  });

  it('colours worse red and better green on the terminal, nothing with NO_COLOR', async () => {
    const colour = { NO_COLOR: '', FORCE_COLOR: '1' };
    const worse = await cli(['report', '--results-dir', slower, '--baseline', real, '--out', join(work, 'c1')], colour);
    expect(worse.code, worse.stderr).toBe(0);
    const row = worse.stdout.split('\n').find((l) => l.startsWith('word-stats-python')) ?? '';
    // The terminal shows each change as a percentage (to fit 120 columns).
    expect(row).toContain('\u001b[31m+60.0%\u001b[39m'); // latency up: red
    expect(row).toContain('\u001b[31m−37.5%\u001b[39m'); // req/s down: red too
    for (const sign of ['+', '−']) expect(row).not.toContain(`\u001b[32m${sign}`); // no change in green
    const better = await cli(['report', '--results-dir', real, '--baseline', slower, '--out', join(work, 'c2')], colour);
    const betterRow = better.stdout.split('\n').find((l) => l.startsWith('word-stats-python')) ?? '';
    expect(betterRow).toContain('\u001b[32m−37.5%\u001b[39m'); // latency down: green
    for (const sign of ['+', '−']) expect(betterRow).not.toContain(`\u001b[31m${sign}`);
    const plain = await cli(['report', '--results-dir', slower, '--baseline', real, '--out', join(work, 'c3')], {
      NO_COLOR: '1',
      FORCE_COLOR: '1',
    });
    expect(plain.stdout).toContain(' +60.0%');
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('exits 99 on a real run made against a deliberately slower server', async () => {
    const fns = ['word-stats-python', 'word-stats-node'];
    const baseP95 = fns.map(
      (fn) => JSON.parse(readFileSync(join(real, `${fn}.json`), 'utf8')).metrics.http_req_duration['p(95)'] as number,
    );
    // Every call answers at least twice the baseline's slowest p95 late, so each p95 at least doubles
    // however busy the machine was when the baseline ran.
    const delayMs = Math.ceil(2 * Math.max(...baseP95)) + 50;
    standIn.setDelayMs(delayMs);
    let delayed: string;
    try {
      delayed = await load('delayed', ['--stages', '300ms:2,600ms:2', '--think-time', '0.02']);
    } finally {
      standIn.setDelayMs(0);
    }
    const r = await cli(['report', '--results-dir', delayed, '--baseline', real, '--fail-on-regression', '50', '--out', join(work, 'd1')]);
    expect(r.code, r.stderr).toBe(99);
    const regressions = r.stderr.split('\n').filter((l) => l.startsWith('regression: '));
    for (const fn of fns) {
      const p95 = JSON.parse(readFileSync(join(delayed, `${fn}.json`), 'utf8')).metrics.http_req_duration['p(95)'] as number;
      expect(p95).toBeGreaterThanOrEqual(delayMs);
      const line = regressions.find((l) => l.startsWith(`regression: ${fn} p95 `));
      expect(line, r.stderr).toContain(`p95 ${ms(p95)} ms (baseline `);
    }
  });

  it('exits 99 naming each regressed function and metric with both values, 0 within the limit', async () => {
    const r = await cli(['report', '--results-dir', slower, '--baseline', real, '--fail-on-regression', '20', '--out', join(work, 'r1')]);
    expect(r.code, r.stderr).toBe(99);
    const regressions = r.stderr.split('\n').filter((l) => l.startsWith('regression: '));
    const expected: string[] = [];
    for (const fn of ['word-stats-python', 'word-stats-node']) {
      const base = JSON.parse(readFileSync(join(real, `${fn}.json`), 'utf8')).metrics;
      const now = JSON.parse(readFileSync(join(slower, `${fn}.json`), 'utf8')).metrics;
      expected.push(
        `regression: ${fn} p95 ${ms(now.http_req_duration['p(95)'])} ms (baseline ${ms(base.http_req_duration['p(95)'])} ms, +60.0%)`,
        `regression: ${fn} req/s ${now.iterations.rate.toFixed(1)} (baseline ${base.iterations.rate.toFixed(1)}, −37.5%)`,
      );
    }
    expect(regressions).toEqual(expected);
    expect(r.stderr).toContain(`4 regression(s) beyond 20% against the baseline ${real} (exit 99)`);

    const json = await cli([
      '--json',
      'report',
      '--results-dir',
      slower,
      '--baseline',
      real,
      '--fail-on-regression',
      '20%',
      '--out',
      join(work, 'r2'),
    ]);
    expect(json.code).toBe(99);
    const doc = JSON.parse(json.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.regressionCheck.maxPct).toBe(20);
    expect(doc.regressionCheck.regressions.map((x: { function: string; metric: string }) => `${x.function} ${x.metric}`)).toEqual([
      'word-stats-python p95',
      'word-stats-python rps',
      'word-stats-node p95',
      'word-stats-node rps',
    ]);

    const within = await cli([
      'report',
      '--results-dir',
      slower,
      '--baseline',
      real,
      '--fail-on-regression',
      '70',
      '--out',
      join(work, 'r3'),
    ]);
    expect(within.code, within.stderr).toBe(0);
    expect(within.stderr).toContain("no function's p95 or req/s is more than 70% worse than the baseline");
    // The same run against itself never regresses, even with no allowance at all.
    const itself = await cli(['report', '--results-dir', real, '--baseline', real, '--fail-on-regression', '0', '--out', join(work, 'r4')]);
    expect(itself.code, itself.stderr).toBe(0);
  });

  it('is a one-line usage error without --baseline or with a bad percentage', async () => {
    const alone = await cli(['report', '--results-dir', real, '--fail-on-regression', '10', '--out', join(work, 'u1')]);
    expect(alone.code).toBe(2);
    expect(alone.stderr.trim().split('\n')).toEqual([
      'nanofaas: --fail-on-regression needs --baseline <dir>: the earlier results to compare with',
    ]);
    const bad = await cli(['report', '--results-dir', real, '--baseline', real, '--fail-on-regression', 'lots', '--out', join(work, 'u2')]);
    expect(bad.code).toBe(2);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("--fail-on-regression must be a percentage of 0 or more, e.g. 10, got 'lots'");
  });
});
