import { readFileSync, rmSync, writeFileSync, mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResults, ReportError } from '../../src/report/load.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';
import { formatChange, formatFigure, functionRows, highlightLines, runtimeRows } from '../../src/report/tables.js';
import { parseFormats, writeReport } from '../../src/report/write.js';
import { RUNS, summaryOf, writeResults } from './fixtures.js';

const dirs: string[] = [];
const results = (...args: Parameters<typeof writeResults>) => {
  const dir = writeResults(...args);
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('report tables', () => {
  it('every figure equals its summary', () => {
    const dir = results(RUNS);
    const report = buildReport(loadResults(dir));
    expect(report.functions.map((r) => r.function).sort()).toEqual(RUNS.map((r) => r.fn).sort());
    for (const run of RUNS) {
      const s = JSON.parse(readFileSync(join(dir, `${run.fn}.json`), 'utf8'));
      const row = report.functions.find((r) => r.function === run.fn);
      expect(row?.runtime).toBe(run.runtime);
      expect(row?.figures).toEqual({
        reqs: s.metrics.http_reqs.count,
        failPct: s.metrics.http_req_failed.value * 100,
        avg: s.metrics.http_req_duration.avg,
        med: s.metrics.http_req_duration.med,
        p90: s.metrics.http_req_duration['p(90)'],
        p95: s.metrics.http_req_duration['p(95)'],
        p99: s.metrics.http_req_duration['p(99)'],
        rps: s.metrics.iterations.rate,
      });
    }
    const rows = functionRows(report);
    const java = rows.find((r) => r[0] === 'word-stats-java');
    expect(java).toEqual([
      'word-stats-java',
      'java',
      '750',
      '8.80%',
      '1763.2',
      '1700.5',
      '2400.1',
      '2566.4',
      '5100.9',
      '6.8',
      'FAIL p(99)<5000',
    ]);
    expect(rows.find((r) => r[0] === 'word-stats-python')).toEqual([
      'word-stats-python',
      'python',
      '12000',
      '0.00%',
      '15.70',
      '12.25',
      '40.50',
      '66.20',
      '90.10',
      '107.7',
      'PASS',
    ]);
    const md = renderMarkdown(report);
    for (const row of rows) expect(md).toContain(`| ${row.join(' | ')} |`);
  });

  it('fastest, slowest, highest throughput and per-runtime means', () => {
    const report = buildReport(loadResults(results(RUNS)));
    expect(report.highlights).toEqual({
      fastest: 'json-transform-python',
      slowest: 'word-stats-java',
      highestThroughput: 'json-transform-python',
    });
    expect(highlightLines(report)[0]).toBe('Fastest (avg): json-transform-python (10.04 ms)');
    const python = report.runtimes.find((r) => r.runtime === 'python');
    expect(python).toMatchObject({ functions: 2, meanAvgMs: (15.7 + 10.04) / 2, meanRps: (107.7 + 113.1) / 2, meanFailPct: 0 });
    expect(report.runtimes.map((r) => r.runtime)).toEqual(['exec', 'java', 'python']);
    expect(runtimeRows(report).find((r) => r[0] === 'exec')).toEqual(['exec', '1', '235.7', '37.2', '0.10%']);
    expect(report.thresholdsPassed).toBe(false);
  });

  /** word-stats-node's run, loaded as a run that sent no request at all. */
  function idleRun() {
    const summary = summaryOf({
      fn: 'word-stats-node',
      runtime: 'node',
      count: 0,
      failed: 0,
      avg: 0,
      med: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      rps: 0,
    });
    summary.metrics.http_req_failed.value = 0;
    return { function: 'word-stats-node', runtime: 'node', file: 'word-stats-node.json', summary };
  }

  it('a function that sent no requests is not the fastest', () => {
    const loaded = loadResults(results(RUNS));
    loaded.runs.push(idleRun());
    const report = buildReport(loaded);
    expect(report.highlights).toEqual({
      fastest: 'json-transform-python',
      slowest: 'word-stats-java',
      highestThroughput: 'json-transform-python',
    });
    expect(report.functions.find((r) => r.function === 'word-stats-node')?.verdict?.passed).toBe(false);
  });

  it('names nobody when no run sent a request: the highlight lines are left out everywhere', () => {
    const dir = results(RUNS.slice(0, 1));
    const loaded = loadResults(dir);
    loaded.runs = [idleRun()];
    const report = buildReport(loaded);
    expect(highlightLines(report)).toEqual([]);
    const md = renderMarkdown(report);
    expect(md).not.toMatch(/Fastest|Slowest|Highest throughput/);
    expect(md).not.toMatch(/: {2}\(/);
    expect(md).toContain('Thresholds: FAILED for word-stats-node');
    const html = writeReport(report, undefined, dir, ['html']).map((path) => readFileSync(path, 'utf8'))[0] ?? '';
    expect(html).not.toMatch(/Fastest|<ul><\/ul>/);
  });

  it('an interrupted run is INTERRUPTED, never PASS, and ranks nowhere', () => {
    const loaded = loadResults(results(RUNS));
    const python = loaded.runs.find((r) => r.function === 'json-transform-python');
    if (!python?.summary.nanofaas) throw new Error('fixture without run info');
    python.summary.nanofaas.interrupted = true;
    const report = buildReport(loaded);
    const row = report.functions.find((r) => r.function === 'json-transform-python');
    expect(row).toMatchObject({ interrupted: true, verdict: { passed: false, interrupted: true } });
    expect(
      functionRows(report)
        .find((r) => r[0] === 'json-transform-python')
        ?.at(-1),
    ).toBe('INTERRUPTED');
    expect(report.interrupted).toEqual(['json-transform-python']);
    expect(report.highlights.fastest).not.toBe('json-transform-python');
    expect(renderMarkdown(report)).toContain(
      'Thresholds: FAILED for word-stats-java; INTERRUPTED (partial run, not judged): json-transform-python',
    );
    // Without thresholds to judge by, still INTERRUPTED (not n/a).
    const bare = loadResults(results(RUNS.slice(1, 2), { withInfo: false }));
    bare.runs[0]!.summary.nanofaas = {
      function: 'x',
      workload: 'word-stats',
      runtime: 'python',
      engine: 'builtin',
      mode: 'sync',
      start: '',
      end: '',
      interrupted: true,
    };
    const bareReport = buildReport(bare);
    expect(functionRows(bareReport)[0]?.at(-1)).toBe('INTERRUPTED');
    expect(bareReport.thresholdsPassed).toBe(false);
  });

  it('falls back to the profile thresholds and the file name when k6 wrote a bare summary', () => {
    const report = buildReport(loadResults(results(RUNS.slice(1, 2), { withInfo: false })), {
      fallbackThresholds: (rt) => (rt === 'python' ? { p95Ms: 60, p99Ms: 5000, failedRate: 0.15 } : undefined),
    });
    expect(report.functions[0]?.runtime).toBe('python'); // from test-windows.jsonl
    expect(report.functions[0]?.verdict?.checks.map((c) => c.passed)).toEqual([false, true, true]);
    expect(buildReport(loadResults(results(RUNS.slice(1, 2), { withInfo: false }))).functions[0]?.verdict).toBeNull();
  });
});

describe('baseline deltas', () => {
  it('shows every figure’s change against the baseline', () => {
    const baseline = results(RUNS);
    const faster = RUNS.map((r) => (r.fn === 'word-stats-python' ? { ...r, avg: 12.56, rps: 130.2, count: 15000, failed: 15 } : r));
    const report = buildReport(loadResults(results(faster)), { baseline: loadResults(baseline) });
    const row = report.functions.find((r) => r.function === 'word-stats-python');
    expect(row?.changes?.avg?.baseline).toBe(15.7);
    expect(row?.changes?.avg?.delta).toBeCloseTo(-3.14, 10);
    expect(row?.changes?.avg?.pct).toBeCloseTo(-20, 10);
    expect(row?.changes?.reqs).toEqual({ baseline: 12000, delta: 3000, pct: 25 });
    expect(row?.changes?.failPct).toEqual({ baseline: 0, delta: 0.1, pct: null });
    expect(report.functions.find((r) => r.function === 'word-stats-java')?.changes?.avg).toEqual({ baseline: 1763.2, delta: 0, pct: 0 });
    const cells = functionRows(report).find((r) => r[0] === 'word-stats-python') ?? [];
    expect(cells[2]).toBe('15000 Δ +3000 (+25.0%)');
    expect(cells[3]).toBe('0.10% Δ +0.10 pp (new)');
    expect(cells[4]).toBe('12.56 Δ −3.14 (−20.0%)');
    expect(report.runtimes.find((r) => r.runtime === 'python')?.changes?.meanRps?.delta).toBeCloseTo((130.2 - 107.7) / 2, 10);
    expect(renderMarkdown(report)).toContain('compared with baseline');
    expect(formatChange('rps', { baseline: 10, delta: 0, pct: 0 })).toBe('Δ ±0.0 (±0.0%)');
    expect(formatFigure('p99', null)).toBe('—');
  });

  it('a function missing from the baseline has no change, not a crash', () => {
    const report = buildReport(loadResults(results(RUNS)), { baseline: loadResults(results(RUNS.slice(0, 1))) });
    expect(report.functions.find((r) => r.function === 'word-stats-java')?.changes).toBeDefined();
    expect(report.functions.find((r) => r.function === 'word-stats-exec')?.changes).toBeUndefined();
  });
});

describe('corrupt or missing result files', () => {
  it('names the file in one line', () => {
    const dir = results(RUNS.slice(0, 2));
    writeFileSync(join(dir, 'word-stats-python.json'), '{"metrics": {');
    expect(() => loadResults(dir)).toThrow(ReportError);
    expect(() => loadResults(dir)).toThrow(`${join(dir, 'word-stats-python.json')}: corrupt result file, not valid JSON`);

    writeFileSync(join(dir, 'word-stats-python.json'), JSON.stringify({ metrics: { http_reqs: { count: 1, rate: 1 } } }));
    expect(() => loadResults(dir)).toThrow(new RegExp(`^${join(dir, 'word-stats-python.json')}: corrupt result file, /metrics/`));

    const summary = summaryOf(RUNS[0]!);
    writeFileSync(
      join(dir, 'word-stats-python.json'),
      JSON.stringify({ ...summary, metrics: { ...summary.metrics, http_req_failed: { passes: 'x' } } }),
    );
    expect(() => loadResults(dir)).toThrow(/word-stats-python\.json: corrupt result file, \/metrics\/http_req_failed/);
  });

  it('a missing or empty directory and a torn windows file are named', () => {
    const missing = join(tmpdir(), 'no-such-results-dir-4711');
    expect(() => loadResults(missing)).toThrow(`${missing}: results directory not found`);
    const empty = mkdtempSync(join(tmpdir(), 'report-empty-'));
    dirs.push(empty);
    expect(() => loadResults(empty)).toThrow(`${empty}: no load-test summaries (<function>.json) found`);
    const dir = results(RUNS.slice(0, 1));
    appendFileSync(join(dir, 'test-windows.jsonl'), '{"function": "x"\n');
    expect(() => loadResults(dir)).toThrow(`${join(dir, 'test-windows.jsonl')}:2: corrupt test window line`);
    const dir2 = results(RUNS.slice(0, 1), { prometheus: { nope: true } });
    expect(() => loadResults(dir2)).toThrow(
      `${join(dir2, 'prometheus.json')}: corrupt result file, expected {prometheusUrl, windows: [...]}`,
    );
  });
});

describe('report files', () => {
  it('writes the chosen formats and rejects unknown ones', () => {
    const dir = results(RUNS);
    const loaded = loadResults(dir);
    const report = buildReport(loaded);
    const paths = writeReport(report, loaded.prometheus, dir, parseFormats('md,json,html'));
    expect(paths).toEqual([join(dir, 'report.md'), join(dir, 'report.json'), join(dir, 'report.html')]);
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(json.functions).toHaveLength(RUNS.length);
    expect(json.functions[0].figures.reqs).toBe(report.functions[0]?.figures.reqs);
    // Report files in the results directory do not confuse the next load.
    expect(loadResults(dir).runs).toHaveLength(RUNS.length);
    expect(() => parseFormats('md,pdf')).toThrow('invalid --format "md,pdf" (choose from md, html, json, comma-separated)');
    expect(parseFormats('html, html')).toEqual(['html']);
  });
});
