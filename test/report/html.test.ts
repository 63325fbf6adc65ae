import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResults } from '../../src/report/load.js';
import { buildReport } from '../../src/report/model.js';
import { writeReport } from '../../src/report/write.js';
import { writeFindMax } from '../../src/loadtest/find-max.js';
import {
  EIGHT_RUNS,
  findMaxFixture,
  prometheusFixture,
  prometheusWithWholeFixture,
  RUNS,
  runFixture,
  seriesFixture,
  writeResults,
} from './fixtures.js';

// The parts of SVG shapes the page script measures; the DOM's own types are not in the Node build.
type SvgRect = { getBBox(): { height: number; width: number } };
type SvgPath = { getTotalLength(): number };
type Box = { getBoundingClientRect(): { right: number; width: number } };
type El = Box & { tagName: string; className: unknown };
/** The page's document, as the evaluated functions see it (no DOM lib in the Node build). */
type Doc = { querySelectorAll(selector: string): Iterable<El>; documentElement: { scrollWidth: number; scrollHeight: number } };

/** The window the page is laid out for (issue 12: it fits 1280 px). */
const VIEWPORT = { width: 1280, height: 800 };

let browser: Browser;
const dirs: string[] = [];
/** Screenshots stay after the run, for a person to look at; the path is printed. */
const shots = mkdtempSync(join(tmpdir(), 'report-screenshots-'));

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Loaded {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(htmlPath: string): Promise<Loaded> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
  return { page, problems, requests };
}

/** Nothing sticks out of the 1280 px window: neither the document nor any element in it. */
async function overflow(page: Page): Promise<{ scrollWidth: number; wide: string[] }> {
  return page.evaluate((limit) => {
    const d = (globalThis as unknown as { document: Doc }).document;
    const wide = [...d.querySelectorAll('body *')]
      .filter((el) => (el as unknown as Box).getBoundingClientRect().right > limit + 0.5)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className)}` : ''} right=${Math.round((el as unknown as Box).getBoundingClientRect().right)}`,
      );
    return { scrollWidth: d.documentElement.scrollWidth, wide };
  }, VIEWPORT.width);
}

interface ChartInfo {
  metric: string;
  title: string;
  width: number;
  paths: number;
  bars: number;
  yticks: string[];
  xticks: string[];
}

async function charts(page: Page): Promise<ChartInfo[]> {
  return page.$$eval('svg.chart', (svgs) =>
    svgs.map((svg) => ({
      metric: svg.getAttribute('data-metric') ?? '',
      title: svg.querySelector('title')?.textContent ?? '',
      width: (svg as unknown as Box).getBoundingClientRect().width,
      paths: [...svg.querySelectorAll('path.series')].filter((p) => (p as unknown as SvgPath).getTotalLength() > 0).length,
      bars: [...svg.querySelectorAll('rect.bar')].filter((r) => (r as unknown as SvgRect).getBBox().width > 0).length,
      yticks: [...svg.querySelectorAll('text.ytick')].map((t) => t.textContent ?? ''),
      xticks: [...svg.querySelectorAll('text.xtick')].map((t) => t.textContent ?? ''),
    })),
  );
}

describe('report.html in headless Chromium at 1280 px', () => {
  it('a long run of 8 functions with series, Prometheus and a baseline: one chart per metric, nothing wider than the window', async () => {
    const seconds = 600;
    const series = EIGHT_RUNS.map((run, i) => seriesFixture(run, seconds, i + 1));
    const baselineDir = writeResults(EIGHT_RUNS.map((r) => ({ ...r, p95: r.p95 * 0.9, rps: r.rps * 1.05 })));
    const dir = writeResults(EIGHT_RUNS, {
      prometheus: prometheusWithWholeFixture(EIGHT_RUNS, seconds, ['word-stats-exec']),
      series,
      run: runFixture({ functions: EIGHT_RUNS.map((r) => ({ name: r.fn, runtime: r.runtime, workload: r.fn.replace(/-[a-z]+$/, '') })) }),
    });
    dirs.push(baselineDir, dir);
    const loaded = loadResults(dir);
    expect(loaded.series).toHaveLength(8);
    const report = buildReport(loaded, { baseline: loadResults(baselineDir) });
    const [htmlPath] = writeReport(report, loaded.prometheus, dir, ['html'], loaded.series);
    const html = readFileSync(htmlPath ?? '', 'utf8');
    // No script, no external resource: the only URLs are the SVG namespace and the run's own endpoints, as text.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)(?!127\.0\.0\.1:)/);

    const { page, problems, requests } = await open(htmlPath ?? '');
    const found = await charts(page);
    // One chart per metric, every function on it.
    expect(found.map((c) => c.metric)).toEqual([
      'latency',
      'throughput',
      'throughput-over-time',
      'p95-over-time',
      'server-p95-over-time',
      'failures-over-time',
      'vus-over-time',
      'dropped-over-time',
    ]);
    const by = (metric: string) => found.find((c) => c.metric === metric) as ChartInfo;
    expect(by('throughput').bars).toBe(8);
    for (const metric of ['throughput-over-time', 'p95-over-time', 'server-p95-over-time', 'vus-over-time']) {
      expect(by(metric).paths, metric).toBe(8);
    }
    expect(by('failures-over-time').paths).toBe(2); // only two runs failed anything
    // Latencies from 1.7 ms to 611 ms on decades; time in round steps (10 min: every minute).
    expect(by('latency').xticks).toEqual(['1', '10', '100', '1k']);
    expect(by('p95-over-time').yticks).toEqual(['1', '10', '100', '1k', '10k']); // the exec spike reaches 1.1 s
    // Ten minutes: a tick every minute, the axis caption names the unit.
    expect(by('p95-over-time').xticks).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(by('throughput-over-time').yticks).toEqual(['0', '50', '100', '150']);
    for (const chart of found) expect(chart.width, chart.metric).toBeGreaterThan(400);

    // The table carries the server's figures, the agreement and the drops, and still fits.
    const header = await page.$$eval('table.fn th', (ths) => ths.map((th) => th.textContent ?? ''));
    expect(header).toEqual([
      'Function',
      'Runtime',
      'Reqs',
      'Fail%',
      'Avg',
      'p50',
      'p90',
      'p95',
      'p99',
      'Req/s',
      'Srv p50',
      'Srv p95',
      '±25%',
      'Dropped',
      'Thresholds',
    ]);
    const agreement = await page.$$eval('table.fn tbody tr', (trs) => trs.map((tr) => tr.children[12]?.textContent ?? ''));
    expect(agreement.filter((a) => a === 'no')).toHaveLength(1);

    const { scrollWidth, wide } = await overflow(page);
    expect(wide).toEqual([]);
    expect(scrollWidth).toBeLessThanOrEqual(VIEWPORT.width);
    expect(problems).toEqual([]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);

    const height = await page.evaluate(() => (globalThis as unknown as { document: Doc }).document.documentElement.scrollHeight);
    const shot = join(shots, 'report-8-functions.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(50_000);
    console.log(`report page: ${height} px high, ${found.length} charts; screenshot ${shot}`);
    // Two charts abreast: the whole page is a few screens, not 6,500 px.
    expect(height).toBeLessThan(3200);
    await page.close();
  });

  it('a --find-max run: its figure and table sit in the same 1280 px column', async () => {
    const dir = writeResults(EIGHT_RUNS, { series: EIGHT_RUNS.map((run, i) => seriesFixture(run, 60, i + 1)) });
    dirs.push(dir);
    writeFindMax(dir, findMaxFixture(EIGHT_RUNS));
    const loaded = loadResults(dir);
    const [htmlPath] = writeReport(buildReport(loaded), loaded.prometheus, dir, ['html'], loaded.series);
    const { page, problems } = await open(htmlPath ?? '');
    expect(await page.locator('svg.find-max rect.bar').count()).toBe(8);
    const { scrollWidth, wide } = await overflow(page);
    expect(wide).toEqual([]);
    expect(scrollWidth).toBeLessThanOrEqual(VIEWPORT.width);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('results without series (older runs, bare k6 exports) still chart latency and throughput, and drop the time charts', async () => {
    const baselineDir = writeResults(RUNS);
    const dir = writeResults(
      RUNS.map((r) => ({ ...r, avg: r.avg * 0.9 })),
      { prometheus: prometheusFixture(['word-stats-python', 'word-stats-java']) },
    );
    dirs.push(baselineDir, dir);
    const loaded = loadResults(dir);
    const report = buildReport(loaded, { baseline: loadResults(baselineDir) });
    const [htmlPath] = writeReport(report, loaded.prometheus, dir, ['html']);
    const { page, problems } = await open(htmlPath ?? '');
    const found = await charts(page);
    // The snapshot predates whole-window figures: the server line is charted, no agreement column.
    expect(found.map((c) => c.metric)).toEqual(['latency', 'throughput', 'server-p95-over-time']);
    expect(found[2]?.paths).toBe(2);
    expect(found[1]?.bars).toBe(RUNS.length);
    const header = await page.$$eval('table.fn th', (ths) => ths.map((th) => th.textContent ?? ''));
    expect(header).not.toContain('Srv p95');
    const firstRow = await page.$$eval('table.fn tbody tr:first-child td', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(firstRow[0]).toBe(report.functions[0]?.function);
    expect(firstRow[4]).toContain('−10.0%'); // avg dropped 10% against the baseline
    expect(await page.locator('td.fail').count()).toBe(1);
    const { scrollWidth, wide } = await overflow(page);
    expect(wide).toEqual([]);
    expect(scrollWidth).toBeLessThanOrEqual(VIEWPORT.width);
    expect(problems).toEqual([]);
    await page.close();
  });
});
