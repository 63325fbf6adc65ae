import { readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResults } from '../../src/report/load.js';
import { buildReport } from '../../src/report/model.js';
import { writeReport } from '../../src/report/write.js';
import { prometheusFixture, RUNS, writeResults } from './fixtures.js';

// The parts of SVG shapes the page script measures; the DOM's own types are not in the Node build.
type SvgRect = { getBBox(): { height: number } };
type SvgPath = { getTotalLength(): number };

let browser: Browser;
const dirs: string[] = [];

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

describe('report.html in headless Chromium', () => {
  it('renders the latency, throughput and Prometheus charts with no console errors and no external requests', async () => {
    const baselineDir = writeResults(RUNS);
    const dir = writeResults(
      RUNS.map((r) => ({ ...r, avg: r.avg * 0.9 })),
      { prometheus: prometheusFixture(['word-stats-python', 'word-stats-java']) },
    );
    dirs.push(baselineDir, dir);
    const loaded = loadResults(dir);
    const report = buildReport(loaded, { baseline: loadResults(baselineDir) });
    const [htmlPath] = writeReport(report, loaded.prometheus, dir, ['html']);
    const html = readFileSync(htmlPath ?? '', 'utf8');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)(?!127\.0\.0\.1:9090)/);

    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(htmlPath ?? '').href, { waitUntil: 'load' });

    const charts = await page.$$eval('svg', (svgs) =>
      svgs.map((svg) => ({
        title: svg.querySelector('title')?.textContent ?? '',
        width: svg.getBoundingClientRect().width,
        bars: [...svg.querySelectorAll('rect.bar')].filter((r) => (r as unknown as SvgRect).getBBox().height > 0).length,
        paths: [...svg.querySelectorAll('path.series')].filter(
          (p) => (p.getAttribute('d') ?? '').length > 10 && (p as unknown as SvgPath).getTotalLength() > 0,
        ).length,
      })),
    );
    // 2 overview charts + 3 Prometheus charts per snapshotted window.
    expect(charts).toHaveLength(2 + 3 * 2);
    const latency = charts.find((c) => c.title === 'Latency per function (ms)');
    expect(latency?.bars).toBe(RUNS.length * 5); // avg, med, p90, p95, p99 per function
    const throughput = charts.find((c) => c.title === 'Throughput per function (req/s)');
    expect(throughput?.bars).toBe(RUNS.length * 2); // this run + baseline
    const prom = charts.filter((c) => c.title.includes(': '));
    expect(prom).toHaveLength(6);
    for (const chart of prom) expect(chart.paths, chart.title).toBe(3); // p50, p95, p99
    for (const chart of charts) expect(chart.width).toBeGreaterThan(100);

    const firstRow = await page.$$eval('tbody tr:first-child td', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(firstRow[0]).toBe(report.functions[0]?.function);
    expect(firstRow[4]).toContain('Δ −'); // avg dropped 10% against the baseline
    expect(await page.locator('td.fail').count()).toBe(1);
    expect(problems).toEqual([]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    await page.close();
  });
});
