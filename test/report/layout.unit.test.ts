import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { linearTicks, logTicks, niceStep, tickLabel, timeLabel, timeTicks, timeUnit } from '../../src/report/charts.js';
import { loadResults } from '../../src/report/load.js';
import { buildReport } from '../../src/report/model.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { functionTable, shortVerdictText } from '../../src/report/tables.js';
import { table, visibleLength } from '../../src/util/format.js';
import { EIGHT_RUNS, prometheusWithWholeFixture, RUNS, writeResults } from './fixtures.js';

const dirs: string[] = [];
const results = (...args: Parameters<typeof writeResults>) => {
  const dir = writeResults(...args);
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('chart scales', () => {
  it('linear ticks step 1-2-5 from 0 past the maximum', () => {
    expect(niceStep(0.3)).toBe(0.5);
    expect(niceStep(13)).toBe(20);
    expect(linearTicks(107.7)).toEqual([0, 50, 100, 150]);
    expect(linearTicks(9.1)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linearTicks(0.38)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(linearTicks(0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // No 62.5 or 0.38 among them: every tick is 1, 2 or 5 × 10^n times an integer.
    for (const max of [0.38, 3.3, 62.5, 480, 12_345]) {
      const ticks = linearTicks(max);
      const step = (ticks[1] ?? 0) - (ticks[0] ?? 0);
      expect([1, 2, 5]).toContain(Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(3)));
      expect(ticks.at(-1)).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(7);
    }
  });

  it('log ticks are decades, with 2 and 5 when the range is narrow', () => {
    expect(logTicks(1.7, 611).ticks).toEqual([1, 10, 100, 1000]);
    expect(logTicks(2.6, 8.1).ticks).toEqual([1, 2, 5, 10]);
    expect(logTicks(2, 150).ticks).toEqual([1, 10, 100, 1000]);
    expect(logTicks(3, 80).ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logTicks(0.05, 30_000).ticks).toEqual([0.01, 0.1, 1, 10, 100, 1000, 10_000, 100_000]);
  });

  it('time ticks every 10 s on a two-minute run, coarser on longer ones, labelled in one unit per axis', () => {
    expect(timeTicks(110)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(timeTicks(40)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(timeTicks(600)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]);
    expect(timeTicks(3 * 3600).length).toBeLessThanOrEqual(13);
    // One unit per axis, named in its caption: seconds up to 10 minutes, then minutes, then hours.
    expect(timeUnit(110).name).toBe('seconds');
    expect(timeLabel(30, timeUnit(110))).toBe('30');
    expect(timeUnit(600).name).toBe('minutes');
    expect(timeLabel(540, timeUnit(600))).toBe('9');
    expect(timeLabel(90, timeUnit(900))).toBe('1.5');
    expect(timeLabel(7200 * 2, timeUnit(7200 * 2))).toBe('4');
    expect(tickLabel(1500)).toBe('1.5k');
    expect(tickLabel(0.1 + 0.2)).toBe('0.3');
  });
});

describe('per-function table', () => {
  it('adds server p50/p95 and agreement when Prometheus has whole-window figures, dropped only when a run dropped', () => {
    const withProm = buildReport(
      loadResults(results(EIGHT_RUNS, { prometheus: prometheusWithWholeFixture(EIGHT_RUNS, 600, ['word-stats-exec']) })),
    );
    const full = functionTable(withProm, 'full');
    expect(full.header).toEqual([
      'Function',
      'Runtime',
      'Reqs',
      'Fail%',
      'Avg ms',
      'p50 ms',
      'p90 ms',
      'p95 ms',
      'p99 ms',
      'Req/s',
      'Server p50 ms',
      'Server p95 ms',
      'Agrees ±25%',
      'Dropped',
      'Thresholds',
    ]);
    const exec = full.rows.find((r) => r[0]?.text === 'word-stats-exec')?.map((c) => c.text);
    expect(exec?.slice(10, 14)).toEqual(['227.2', '482.1', 'no', '0']); // 142 × 1.6, 301.3 × 1.6
    const node = full.rows.find((r) => r[0]?.text === 'word-stats-node')?.map((c) => c.text);
    expect(node?.slice(10, 13)).toEqual(['2.00', '4.09', 'yes']);
    expect(full.rows.find((r) => r[0]?.text === 'json-transform-python')?.[13]?.text).toBe('37');
    expect(renderMarkdown(withProm)).toContain('| Server p50 ms | Server p95 ms | Agrees ±25% | Dropped | Thresholds |');

    const plain = functionTable(buildReport(loadResults(results(RUNS))), 'full');
    expect(plain.header).not.toContain('Dropped');
    expect(plain.header).not.toContain('Server p95 ms');
  });

  it('the terminal table fits 120 columns, even with a baseline, server figures and drops', () => {
    const baseline = loadResults(results(EIGHT_RUNS.map((r) => ({ ...r, p95: r.p95 * 0.8, rps: r.rps * 1.2 }))));
    const current = loadResults(results(EIGHT_RUNS, { prometheus: prometheusWithWholeFixture(EIGHT_RUNS, 600, ['word-stats-exec']) }));
    const report = buildReport(current, { baseline });
    const t = functionTable(report, 'terminal');
    // What cli/report.ts prints: the cells with their changes, through the same aligner.
    const lines = table([t.header, ...t.rows.map((row) => row.map((c) => (c.delta ? `${c.text} ${c.delta.text}` : c.text)))]);
    const widest = Math.max(...lines.map(visibleLength));
    expect(widest).toBeLessThanOrEqual(120);
    // It keeps what a reader compares: p95, req/s, failures and the verdict.
    for (const header of ['Function', 'Fail%', 'p95', 'Req/s', 'Thresholds']) expect(t.header).toContain(header);
    expect(t.note).toBe('latencies in ms; Δ vs baseline in %; in report.md only: Runtime, Reqs, Avg, p90, Srv p50');
    expect(t.omitted.length).toBeGreaterThan(0);
    expect(t.header.length + t.omitted.length).toBe(functionTable(report, 'full').header.length);
    // Changes are percentages in the terminal, spelled out in full in Markdown.
    const p95 = t.rows[0]?.[t.header.indexOf('p95')];
    expect(p95?.delta?.text).toBe('+25.0%');
    expect(functionTable(report, 'full').rows[0]?.[7]?.delta?.text).toBe('Δ +1.24 (+25.0%)');

    // Without a baseline nothing needs to go.
    const simple = functionTable(buildReport(loadResults(results(EIGHT_RUNS))), 'terminal');
    expect(simple.omitted).toEqual([]);
    expect(Math.max(...table([simple.header, ...simple.rows.map((r) => r.map((c) => c.text))]).map(visibleLength))).toBeLessThanOrEqual(
      120,
    );
  });

  it('a failed verdict reads short in the narrow forms and in full in Markdown', () => {
    const report = buildReport(loadResults(results(RUNS)));
    const java = report.functions.find((r) => r.function === 'word-stats-java');
    expect(java && shortVerdictText(java)).toBe('FAIL p99');
    expect(functionTable(report, 'full').rows[0]?.at(-1)?.text).toBe('FAIL p(99)<5000');
  });
});
