import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { visibleLength } from '../../src/util/format.js';
import { runInProcess } from '../cli/run-in-process.js';
import { EIGHT_RUNS, prometheusWithWholeFixture, runFixture, seriesFixture, writeResults } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'report-terminal-'));
const dirs: string[] = [work];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('nanofaas report in a terminal', () => {
  it('prints the per-function table within 120 columns: 8 functions, a baseline, server figures and drops', async () => {
    const baseline = writeResults(
      EIGHT_RUNS.map((r) => ({ ...r, p95: r.p95 * 0.9, rps: r.rps * 1.05 })),
      { run: runFixture() },
    );
    const dir = writeResults(EIGHT_RUNS, {
      prometheus: prometheusWithWholeFixture(EIGHT_RUNS, 120, ['word-stats-exec']),
      series: EIGHT_RUNS.map((r, i) => seriesFixture(r, 120, i + 1)),
      run: runFixture(),
    });
    dirs.push(baseline, dir);
    const { code, stdout } = await runInProcess(
      ['report', '--results-dir', dir, '--baseline', baseline, '--format', 'md', '--out', join(work, 'out')],
      { env: { PATH: process.env.PATH, NANOFAAS_STATE_DIR: join(work, 'state'), NO_COLOR: '1' } },
    );
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('Function '));
    expect(header).toBeGreaterThan(0);
    const tableLines = lines.slice(header, header + 1 + EIGHT_RUNS.length);
    expect(tableLines.map((l) => l.split(/\s+/)[0])).toEqual(['Function', ...EIGHT_RUNS.map((r) => r.fn)]);
    for (const line of tableLines) expect(visibleLength(line), line).toBeLessThanOrEqual(120);
    // The run section above it wraps its long values (the thresholds) under themselves.
    for (const line of lines.slice(0, header)) expect(visibleLength(line), line).toBeLessThanOrEqual(120);
    const thresholds = lines.findIndex((l) => l.startsWith('Thresholds: '));
    expect(lines[thresholds + 1]).toMatch(/^ {12}\S/);
    expect(tableLines[0]).toMatch(/p95 .*Req\/s .*Srv p95 .*±25% .*Dropped .*Thresholds/);
    expect(tableLines.find((l) => l.startsWith('word-stats-exec'))).toMatch(/301\.3 \+11\.1% .* no /);
    expect(lines[header + 1 + EIGHT_RUNS.length]).toBe(
      '(latencies in ms; Δ vs baseline in %; in report.md only: Runtime, Reqs, Avg, p90, Srv p50)',
    );
  });
});
