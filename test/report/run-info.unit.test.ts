import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { loadResults, ReportError } from '../../src/report/load.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';
import { findRegressions, parsePct, regressionLine } from '../../src/report/regression.js';
import { runLines } from '../../src/report/run-section.js';
import { compareSettings, settingsLines } from '../../src/report/settings.js';
import { functionCells, runtimeCells } from '../../src/report/tables.js';
import { writeReport } from '../../src/report/write.js';
import { RUNS, runFixture, writeResults } from './fixtures.js';

const dirs: string[] = [];
const results = (...args: Parameters<typeof writeResults>) => {
  const dir = writeResults(...args);
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const EXPECTED_LINES: [string, string][] = [
  ['Run', '2026-01-01T10:00:00.000Z → 2026-01-01T10:07:40.000Z (7 min 40 s)'],
  ['Engine', 'builtin, sync mode'],
  ['Load', 'stages 10s:5,30s:10, think time 0.1 s, cool-down 10 s'],
  [
    'Thresholds',
    'exec: p95<5000 ms, p99<10000 ms, failed<20%; java: p95<3000 ms, p99<5000 ms, failed<15%; python: p95<3000 ms, p99<5000 ms, failed<15%',
  ],
  ['Target', 'local (http://127.0.0.1:8080)'],
  ['Functions', 'word-stats-java, word-stats-python, json-transform-python, word-stats-exec'],
  ['Runtimes', 'exec, java, python (runtime versions are not probed)'],
  ['nanofaas', '0.1.0, commit 0123456789ab'],
  ['Versions', 'Node v20.19.0'],
  ['Machine', '2 × Test CPU @ 2.00GHz (linux/x64)'],
];

describe('the run at the top of the report', () => {
  it('shows every recorded setting first, in Markdown, HTML and JSON', () => {
    const run = runFixture();
    const dir = results(RUNS, { run });
    const loaded = loadResults(dir);
    expect(loaded.run).toEqual(run);
    // The run file is not mistaken for a function's summary.
    expect(loaded.runs.map((r) => r.function)).not.toContain('run');
    const report = buildReport(loaded);
    expect(runLines(report.run)).toEqual(EXPECTED_LINES);

    const [md, html, json] = writeReport(report, undefined, dir, ['md', 'html', 'json']).map((p) => readFileSync(p, 'utf8'));
    for (const [label, value] of EXPECTED_LINES) {
      expect(md).toContain(`| ${label} | ${value} |`);
      expect(html).toContain(`<dt>${label}</dt><dd>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</dd>`);
    }
    expect(md?.indexOf('## Run')).toBeLessThan(md?.indexOf('## Per function') ?? 0);
    expect(html?.indexOf('<dl class="run">')).toBeLessThan(html?.indexOf('<h2>Per function</h2>') ?? 0);
    expect(JSON.parse(json ?? '{}').run).toEqual(run);
  });

  it('says the settings were not recorded when run.json is missing, and names a corrupt one', () => {
    const report = buildReport(loadResults(results(RUNS)));
    expect(report.run).toBeNull();
    expect(runLines(report.run)).toEqual([['Run', 'settings not recorded (no run.json: written by an older loadtest, or by k6 alone)']]);
    expect(renderMarkdown(report)).toContain('| Run | settings not recorded');

    const dir = results(RUNS, { run: runFixture() });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...runFixture(), schemaVersion: 2 }));
    expect(() => loadResults(dir)).toThrow(ReportError);
    expect(() => loadResults(dir)).toThrow(new RegExp(`^${join(dir, 'run.json')}: corrupt run file, /schemaVersion`));
    writeFileSync(join(dir, 'run.json'), '{');
    expect(() => loadResults(dir)).toThrow(`${join(dir, 'run.json')}: corrupt run file, not valid JSON`);
  });
});

describe('a baseline made differently', () => {
  const baselineRun = runFixture({
    engine: 'k6',
    stages: [{ duration: '5s', target: 3 }],
    thresholds: { ...runFixture().thresholds, python: { p95Ms: 2000, p99Ms: 5000, failedRate: 0.15 } },
    functions: runFixture().functions.filter((f) => f.name !== 'word-stats-exec'),
    host: { cpus: 4, cpuModel: 'Other CPU', platform: 'linux', arch: 'x64' },
    nanofaas: { version: '0.1.0', commit: 'fedcba9876543210fedcba9876543210fedcba98' },
    versions: { node: 'v22.1.0', k6: 'v0.49.0 (go1.21.6, linux/amd64)' },
  });

  it('warns once per differing setting; another commit or version is a note', () => {
    const report = buildReport(loadResults(results(RUNS, { run: runFixture() })), {
      baseline: loadResults(results(RUNS, { run: baselineRun })),
    });
    expect(settingsLines(report.settings)).toEqual([
      { level: 'warning', text: 'baseline differs in engine: builtin in this run, k6 in the baseline' },
      { level: 'warning', text: 'baseline differs in stages: 10s:5,30s:10 in this run, 5s:3 in the baseline' },
      {
        level: 'warning',
        text: 'baseline differs in thresholds (python): p95<3000 ms, p99<5000 ms, failed<15% in this run, p95<2000 ms, p99<5000 ms, failed<15% in the baseline',
      },
      { level: 'warning', text: 'baseline differs in functions: only in this run: word-stats-exec' },
      { level: 'warning', text: 'baseline differs in CPU count: 2 in this run, 4 in the baseline' },
      { level: 'warning', text: 'baseline differs in CPU model: Test CPU @ 2.00GHz in this run, Other CPU in the baseline' },
      {
        level: 'note',
        text: 'baseline differs in nanofaas commit: 0123456789ab in this run, fedcba987654 in the baseline (for information)',
      },
      { level: 'note', text: 'baseline differs in Node: v20.19.0 in this run, v22.1.0 in the baseline (for information)' },
      {
        level: 'note',
        text: 'baseline differs in k6: not used in this run, v0.49.0 (go1.21.6, linux/amd64) in the baseline (for information)',
      },
    ]);
    const html = renderHtml(report);
    expect(html).toContain('<p class="warning">warning: baseline differs in engine: builtin in this run, k6 in the baseline</p>');
    expect(html).toContain('<p class="warning">warning: baseline differs in CPU count: 2 in this run, 4 in the baseline</p>');
    expect(html).toContain('<p class="note">note: baseline differs in nanofaas commit:');
    expect(renderMarkdown(report)).toContain('> **warning:** baseline differs in engine: builtin in this run, k6 in the baseline');
  });

  it('warns when one run was an open-model (arrival-rate) run and compares its schedule, not its unused VU stages', () => {
    const open = runFixture({
      arrival: { rate: 50, timeUnit: '1s', duration: '30s', preAllocatedVUs: 10, maxVUs: 50 },
      stages: [{ duration: '1s', target: 1 }],
    });
    const faster = runFixture({
      arrival: { rate: 100, timeUnit: '1s', duration: '30s', preAllocatedVUs: 10, maxVUs: 50 },
      stages: [{ duration: '9s', target: 9 }],
    });
    expect(settingsLines(compareSettings(open, runFixture()))).toEqual([
      {
        level: 'warning',
        text: 'baseline differs in load model: arrival rate 50/1s for 30s (open model, 10–50 VUs) in this run, closed model (VU stages) in the baseline',
      },
    ]);
    expect(settingsLines(compareSettings(open, faster))).toEqual([
      {
        level: 'warning',
        text: 'baseline differs in load model: arrival rate 50/1s for 30s (open model, 10–50 VUs) in this run, arrival rate 100/1s for 30s (open model, 10–50 VUs) in the baseline',
      },
    ]);
  });

  it('is silent when the settings match, and says so when a side has no run.json', () => {
    const same = buildReport(loadResults(results(RUNS, { run: runFixture() })), {
      baseline: loadResults(results(RUNS, { run: runFixture({ start: '2026-01-02T00:00:00.000Z', end: '2026-01-02T00:07:40.000Z' }) })),
    });
    expect(same.settings).toEqual({ differences: [] });
    expect(renderHtml(same)).not.toMatch(/class="(warning|note)"/);
    expect(compareSettings(runFixture(), undefined)).toEqual({
      differences: [],
      unknown: 'the baseline has no run.json, so whether both runs were made the same way is unknown',
    });
    const bare = buildReport(loadResults(results(RUNS, { run: runFixture() })), { baseline: loadResults(results(RUNS)) });
    expect(settingsLines(bare.settings)).toEqual([
      { level: 'warning', text: 'the baseline has no run.json, so whether both runs were made the same way is unknown' },
    ]);
  });
});

/** RUNS with word-stats-python faster (p95 down, req/s up) and json-transform-python slower. */
const MIXED = RUNS.map((r) =>
  r.fn === 'word-stats-python'
    ? { ...r, p95: 50, rps: 120, count: 13000 }
    : r.fn === 'json-transform-python'
      ? { ...r, p95: 20, rps: 90 }
      : r,
);

describe('Δ by better or worse', () => {
  const report = buildReport(loadResults(results(MIXED)), { baseline: loadResults(results(RUNS)) });
  const cells = (fn: string) => functionCells(report).find((row) => row[0]?.text === fn) ?? [];

  it('lower latency and higher req/s are better, the reverse worse, the request count neither', () => {
    const faster = cells('word-stats-python');
    expect(faster[7]?.delta).toEqual({ text: 'Δ −16.20 (−24.5%)', tone: 'better' }); // p95
    expect(faster[9]?.delta).toEqual({ text: 'Δ +12.3 (+11.4%)', tone: 'better' }); // req/s
    expect(faster[2]?.delta?.tone).toBe('same'); // reqs
    const slower = cells('json-transform-python');
    expect(slower[7]?.delta).toEqual({ text: 'Δ +6.20 (+44.9%)', tone: 'worse' });
    expect(slower[9]?.delta?.tone).toBe('worse');
    expect(cells('word-stats-java')[7]?.delta?.tone).toBe('same'); // unchanged
    // Python's mean req/s fell from 110.4 to 105.0.
    expect(runtimeCells(report).find((row) => row[0]?.text === 'python')?.[3]?.delta?.tone).toBe('worse');
  });

  it('the page colours them through CSS classes', () => {
    const html = renderHtml(report);
    // The page shows the percentage under the figure and the full change on hover.
    expect(html).toContain('<td title="Δ −16.20 (−24.5%)">50.00<span class="delta better">−24.5%</span></td>');
    expect(html).toContain('<td title="Δ +6.20 (+44.9%)">20.00<span class="delta worse">+44.9%</span></td>');
    expect(html).toContain('<span class="delta same">±0</span>');
    expect(html).toMatch(/\.delta\.better\{color:#[0-9a-f]{6}\}/);
    expect(html).toMatch(/\.delta\.worse\{color:#[0-9a-f]{6}\}/);
  });
});

describe('regressions against the baseline', () => {
  const report = buildReport(loadResults(results(MIXED)), { baseline: loadResults(results(RUNS)) });

  it('finds every p95 that rose and every req/s that fell by more than the limit', () => {
    const found = findRegressions(report, 20);
    expect(found.map(regressionLine)).toEqual([
      'json-transform-python p95 20.00 ms (baseline 13.80 ms, +44.9%)',
      'json-transform-python req/s 90.0 (baseline 113.1, −20.4%)',
    ]);
    expect(findRegressions(report, 44.9).map((r) => r.metric)).toEqual(['p95']);
    expect(findRegressions(report, 50)).toEqual([]);
    // Faster is never a regression, however large the change.
    expect(findRegressions(report, 0).map((r) => r.function)).not.toContain('word-stats-python');
  });

  it('reads the limit as a percentage', () => {
    expect(parsePct('10')).toBe(10);
    expect(parsePct('7.5%')).toBe(7.5);
    expect(parsePct('0')).toBe(0);
    for (const bad of ['', 'ten', '-1', 'Infinity', '5%%']) {
      expect(() => parsePct(bad)).toThrow(`--fail-on-regression must be a percentage of 0 or more, e.g. 10, got '${bad}'`);
    }
  });
});
