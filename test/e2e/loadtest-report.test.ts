import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadVectors, jsonEqual } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { alive, createE2EEnv, deploymentPids, nanofaasJson, recordedPids, upLocal, type E2EEnv, type UpDocument } from './helpers.js';

// The whole user journey on real processes: up → invoke → loadtest (short profile) → report → down.
// Every runnable catalog function is loaded for 2 s ramp + 2 s hold at 2 VUs (~40 s for 8 functions).

const STAGES = '2s:2,2s:2';
const STAGE_SECONDS = 4;

interface Trend {
  avg: number;
  min: number;
  med: number;
  max: number;
  'p(90)': number;
  'p(95)': number;
  'p(99)': number;
}
interface Summary {
  metrics: {
    http_reqs: { count: number; rate: number };
    http_req_duration: Trend;
    http_req_failed: { passes: number; fails: number; value: number };
    iterations: { count: number; rate: number };
    checks: { passes: number; fails: number; value: number };
    vus_max: { value: number };
  };
  root_group: { checks: Record<string, { name: string; passes: number; fails: number }> };
  nanofaas: {
    function: string;
    workload: string;
    runtime: string;
    engine: string;
    mode: string;
    start: string;
    end: string;
    thresholds: { p95Ms: number; p99Ms: number; failedRate: number };
  };
}
interface ReportRow {
  function: string;
  runtime: string;
  figures: { reqs: number; failPct: number; avg: number; med: number; p90: number; p95: number; p99: number | null; rps: number };
  verdict: { passed: boolean } | null;
}
interface ReportDoc {
  resultsDir: string;
  functions: ReportRow[];
  highlights: { fastest: string; slowest: string; highestThroughput: string };
  runtimes: { runtime: string; functions: number; meanAvgMs: number; meanRps: number; meanFailPct: number }[];
  thresholdsPassed: boolean;
}
interface LoadtestDoc {
  ok: boolean;
  engine: string;
  mode: string;
  resultsDir: string;
  runs: {
    function: string;
    runtime: string;
    summaryPath: string;
    requests: number;
    failedRate: number;
    p95Ms: number;
    verdict: { passed: boolean };
  }[];
  report: ReportDoc;
  files: string[];
  error?: unknown;
}

/** The report's rounding, written out independently: counts whole, % and req/s fixed, ms 2 dp below 100. */
function cell(key: 'reqs' | 'failPct' | 'ms' | 'rps', value: number): string {
  if (key === 'reqs') return String(Math.round(value));
  if (key === 'failPct') return `${value.toFixed(2)}%`;
  if (key === 'rps') return value.toFixed(1);
  return value < 100 ? value.toFixed(2) : value.toFixed(1);
}

describe('loadtest and report end to end (local target, built-in engine)', () => {
  let e: E2EEnv;
  let up: UpDocument;
  let pids: number[] = [];
  let deployed: string[] = [];
  let resultsDir: string;
  let loadtest: LoadtestDoc;
  const catalog = loadCatalog(ROOT_DIR);
  const summaries = new Map<string, Summary>();

  beforeAll(async () => {
    e = createE2EEnv('nanofaas-e2e-loadtest-');
    e.env.SKIP_GRAFANA = 'true';
    delete e.env.PROM_URL;
    resultsDir = mkdtempSync(join(tmpdir(), 'nanofaas-e2e-results-'));
    // Prometheus off: a 4 s window is shorter than its scrape interval, and it costs a core here.
    up = await upLocal(e, ['--no-prometheus']);
    deployed = up.functions.filter((f) => !f.skipped).map((f) => f.name);
    pids = deploymentPids(e.stateDir, recordedPids(e.stateDir));
  }, 240_000);

  afterAll(async () => {
    await e?.cleanup();
    if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
  }, 90_000);

  it('up deployed functions of every workload, each on its own runtime processes', () => {
    expect(deployed.length).toBeGreaterThanOrEqual(2);
    const workloads = new Set(deployed.map((name) => catalog.functions.find((f) => f.name === name)?.workload));
    expect(workloads).toEqual(new Set(['word-stats', 'json-transform']));
    expect(alive(pids).length).toBeGreaterThanOrEqual(1 + deployed.length);
  });

  it('invoke answers every deployed function with its vector output', async () => {
    for (const name of deployed) {
      const entry = catalog.functions.find((c) => c.name === name)!;
      const vector = loadVectors(ROOT_DIR, catalog, entry.workload).find((v) => v.output !== undefined)!;
      const { code, doc } = await nanofaasJson<{ status: string; output: unknown }>(
        ['invoke', name, '--data', JSON.stringify(vector.input)],
        { env: e.env },
      );
      expect(code, name).toBe(0);
      expect(doc.status, name).toBe('success');
      expect(jsonEqual(doc.output, vector.output), `${name} on "${vector.name}": ${JSON.stringify(doc.output)}`).toBe(true);
    }
  }, 60_000);

  it(`loadtest --stages ${STAGES} loads every deployed function with 0% failures and passes the thresholds`, async () => {
    const r = await nanofaasJson<LoadtestDoc>(
      ['loadtest', '--stages', STAGES, '--cool-down', '0', '--engine', 'builtin', '--results-dir', resultsDir],
      { env: e.env, timeoutMs: 180_000 },
    );
    loadtest = r.doc;
    expect(r.code, `${JSON.stringify(r.doc.error ?? r.doc.runs)}\n${r.stderr}`).toBe(0);
    expect(loadtest.ok).toBe(true);
    expect(loadtest.engine).toBe('builtin');
    expect(loadtest.mode).toBe('sync');
    expect(loadtest.resultsDir).toBe(resultsDir);
    // Catalog order, every deployed function, nothing else.
    expect(loadtest.runs.map((run) => run.function)).toEqual(catalog.functions.map((f) => f.name).filter((n) => deployed.includes(n)));
    for (const run of loadtest.runs) {
      expect(run.requests, run.function).toBeGreaterThan(0);
      expect(run.failedRate, run.function).toBe(0);
      expect(run.verdict.passed, run.function).toBe(true);
      expect(run.summaryPath).toBe(join(resultsDir, `${run.function}.json`));
    }
    expect(loadtest.files.sort()).toEqual(['report.html', 'report.json', 'report.md'].map((f) => join(resultsDir, f)));
  }, 200_000);

  it('writes <fn>.json in k6 summary-export shape, <fn>.log, and test-windows.jsonl', () => {
    const expectedFiles = [
      ...deployed.flatMap((n) => [`${n}.json`, `${n}.series.json`, `${n}.log`]),
      'test-windows.jsonl',
      'run.json',
      'report.md',
      'report.json',
      'report.html',
    ];
    expect(readdirSync(resultsDir).sort()).toEqual(expectedFiles.sort());
    // No Prometheus was running, so no snapshot file.
    expect(existsSync(join(resultsDir, 'prometheus.json'))).toBe(false);

    const windows = readFileSync(join(resultsDir, 'test-windows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { function: string; runtime: string; start: string; end: string });
    expect(windows.map((w) => w.function)).toEqual(loadtest.runs.map((r) => r.function));

    for (const [index, run] of loadtest.runs.entries()) {
      const fn = run.function;
      const entry = catalog.functions.find((c) => c.name === fn)!;
      const s = JSON.parse(readFileSync(join(resultsDir, `${fn}.json`), 'utf8')) as Summary;
      summaries.set(fn, s);
      const m = s.metrics;
      const d = m.http_req_duration;

      expect(Object.keys(d).sort()).toEqual(['avg', 'max', 'med', 'min', 'p(90)', 'p(95)', 'p(99)']);
      expect(d.min).toBeGreaterThan(0);
      expect([d.min, d.med, d['p(90)'], d['p(95)'], d['p(99)']].every((v, i, all) => i === 0 || all[i - 1]! <= v)).toBe(true);
      // HDR percentiles are within 0.1 % of a sample; max is exact.
      expect(d['p(99)']).toBeLessThanOrEqual(d.max * 1.001);
      expect(d.avg).toBeGreaterThanOrEqual(d.min);
      expect(d.avg).toBeLessThanOrEqual(d.max);

      expect(m.http_reqs.count).toBe(run.requests);
      expect(m.iterations.count).toBe(m.http_reqs.count);
      expect(m.http_req_failed).toEqual({ passes: 0, fails: m.http_reqs.count, value: 0 });
      expect(m.vus_max.value).toBe(2);
      // Every check passed on every request: the status check and the workload's output check.
      const checks = Object.values(s.root_group.checks);
      expect(checks.map((c) => c.name).sort()).toEqual(
        ['status is 200', entry.workload === 'word-stats' ? 'output.wordCount > 0' : 'output.groups defined'].sort(),
      );
      for (const c of checks) expect(c, `${fn} ${c.name}`).toMatchObject({ passes: m.http_reqs.count, fails: 0 });
      expect(m.checks).toMatchObject({ passes: 2 * m.http_reqs.count, fails: 0, value: 1 });

      expect(s.nanofaas).toMatchObject({ function: fn, workload: entry.workload, runtime: entry.runtime, engine: 'builtin', mode: 'sync' });
      const seconds = (Date.parse(s.nanofaas.end) - Date.parse(s.nanofaas.start)) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(STAGE_SECONDS - 0.05);
      expect(seconds).toBeLessThan(STAGE_SECONDS + 10);
      expect(m.http_reqs.rate).toBeCloseTo(m.http_reqs.count / seconds, 1);
      // The window file names the same interval as the summary; functions ran one after another.
      expect(windows[index]).toEqual({ function: fn, runtime: entry.runtime, start: s.nanofaas.start, end: s.nanofaas.end });
      if (index > 0) expect(Date.parse(windows[index]!.start)).toBeGreaterThanOrEqual(Date.parse(windows[index - 1]!.end));

      const log = readFileSync(join(resultsDir, `${fn}.log`), 'utf8');
      expect(log).toContain(`start ${fn} (${entry.runtime}, sync)`);
      expect(log).toContain(`end ${fn}: ${m.http_reqs.count} requests, 0 failed, p95 ${d['p(95)'].toFixed(1)} ms`);
    }
  });

  it('report.json, report.md and report.html carry exactly the summaries’ numbers', () => {
    const reportJson = JSON.parse(readFileSync(join(resultsDir, 'report.json'), 'utf8')) as ReportDoc;
    expect(reportJson.resultsDir).toBe(resultsDir);
    expect(reportJson.thresholdsPassed).toBe(true);
    expect(reportJson.functions.map((r) => r.function)).toEqual(loadtest.runs.map((r) => r.function));
    const markdown = readFileSync(join(resultsDir, 'report.md'), 'utf8');
    const html = readFileSync(join(resultsDir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<svg');

    for (const row of reportJson.functions) {
      const s = summaries.get(row.function)!;
      const m = s.metrics;
      const d = m.http_req_duration;
      expect(row.runtime).toBe(s.nanofaas.runtime);
      expect(row.figures).toEqual({
        reqs: m.http_reqs.count,
        failPct: 0,
        avg: d.avg,
        med: d.med,
        p90: d['p(90)'],
        p95: d['p(95)'],
        p99: d['p(99)'],
        rps: m.iterations.rate,
      });
      expect(row.verdict?.passed).toBe(true);

      const mdRow = `| ${row.function} | ${row.runtime} | ${[
        cell('reqs', m.http_reqs.count),
        cell('failPct', 0),
        ...[d.avg, d.med, d['p(90)'], d['p(95)'], d['p(99)']].map((v) => cell('ms', v)),
        cell('rps', m.iterations.rate),
      ].join(' | ')} | PASS |`;
      expect(markdown.split('\n'), row.function).toContain(mdRow);
      expect(html, row.function).toContain(row.function);
      expect(html, `${row.function} p95`).toContain(cell('ms', d['p(95)']));
    }

    // Highlights and per-runtime aggregates follow from the same figures.
    const rows = reportJson.functions;
    const byAvg = [...rows].sort((a, b) => a.figures.avg - b.figures.avg);
    expect(reportJson.highlights.fastest).toBe(byAvg[0]!.function);
    expect(reportJson.highlights.slowest).toBe(byAvg.at(-1)!.function);
    expect(reportJson.highlights.highestThroughput).toBe([...rows].sort((a, b) => b.figures.rps - a.figures.rps)[0]!.function);
    for (const rt of reportJson.runtimes) {
      const mine = rows.filter((r) => r.runtime === rt.runtime);
      expect(rt.functions).toBe(mine.length);
      expect(rt.meanAvgMs).toBeCloseTo(mine.reduce((a, r) => a + r.figures.avg, 0) / mine.length, 9);
      expect(rt.meanRps).toBeCloseTo(mine.reduce((a, r) => a + r.figures.rps, 0) / mine.length, 9);
      expect(rt.meanFailPct).toBe(0);
    }
    expect(reportJson.runtimes.map((r) => r.runtime).sort()).toEqual([...new Set(rows.map((r) => r.runtime))].sort());
    expect(markdown).toContain('Thresholds: all passed');
  });

  it('report --results-dir regenerates the same figures and files', async () => {
    const written = JSON.parse(readFileSync(join(resultsDir, 'report.json'), 'utf8')) as ReportDoc;
    rmSync(join(resultsDir, 'report.md'));
    const { code, doc } = await nanofaasJson<ReportDoc & { ok: boolean; files: string[] }>(['report', '--results-dir', resultsDir], {
      env: e.env,
    });
    expect(code).toBe(0);
    expect(doc.ok).toBe(true);
    expect(doc.files.sort()).toEqual(['report.html', 'report.json', 'report.md'].map((f) => join(resultsDir, f)));
    expect(doc.functions).toEqual(written.functions);
    expect(doc.highlights).toEqual(written.highlights);
    expect(doc.runtimes).toEqual(written.runtimes);
    expect(existsSync(join(resultsDir, 'report.md'))).toBe(true);
    const again = JSON.parse(readFileSync(join(resultsDir, 'report.json'), 'utf8')) as ReportDoc;
    expect(again.functions).toEqual(written.functions);
  });

  it('down stops everything, leaves no process behind and nothing for Grafana to stop', async () => {
    // Runtimes that scaled up under load are found through the owner marker, not only the pids seen at up.
    const all = deploymentPids(e.stateDir, pids);
    const { code, doc } = await nanofaasJson<{ ok: boolean; stopped: string[] }>(['down'], { env: e.env, timeoutMs: 60_000 });
    expect(code).toBe(0);
    expect(doc.stopped).toContain('control-plane');
    expect(doc.stopped).not.toContain('grafana');
    expect(alive(all)).toEqual([]);
    expect(deploymentPids(e.stateDir)).toEqual([]);
    expect(existsSync(join(e.stateDir, 'grafana.json'))).toBe(false);
    expect(existsSync(join(e.stateDir, 'pids', 'control-plane.json'))).toBe(false);
  }, 90_000);
});
