import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrafana } from '../../src/loadtest/grafana.js';
import { StateDir } from '../../src/state/state-dir.js';
import { checkParity, sameJson, type Answer } from '../../src/loadtest/parity.js';
import {
  prometheusReady,
  quantileQuery,
  saveSnapshot,
  snapshotWindow,
  stepFor,
  windowCountQuery,
  windowQuantileQuery,
} from '../../src/loadtest/prometheus.js';

const work = mkdtempSync(join(tmpdir(), 'side-services-'));
let prom: Server;
let promUrl: string;
const queries: URLSearchParams[] = [];
const instantQueries: URLSearchParams[] = [];
const paths: string[] = [];

beforeAll(async () => {
  // FAKE Prometheus HTTP API: /-/ready and /api/v1/query_range with one series per query.
  prom = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    paths.push(url.pathname);
    // Also served under /prom, like a Prometheus behind a reverse-proxy path prefix.
    const pathname = url.pathname.replace(/^\/prom(?=\/)/, '');
    if (pathname === '/-/ready') return res.end('Prometheus Server is Ready.');
    if (pathname === '/api/v1/query') {
      instantQueries.push(url.searchParams);
      const q = url.searchParams.get('query') ?? '';
      // The latest scrape: one second after the window's end. The window's buckets: p(q) = q / 10 s.
      if (q.includes('"absent"')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
      }
      const value = /^m(in|ax)\(timestamp\(/.test(q)
        ? // "lagging": Prometheus's latest scrape stays before the window's end.
          String(Date.parse(q.includes('"lagging"') ? '2026-01-01T10:01:49.000Z' : '2026-01-01T10:01:51.000Z') / 1000)
        : q.startsWith('histogram_quantile(')
          ? String(Number(/histogram_quantile\(([\d.]+)/.exec(q)?.[1]) / 10)
          : q.includes('"restarted"')
            ? '-40'
            : q.includes('queue_wait')
              ? 'NaN'
              : '1234';
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, value] }] } }),
      );
    }
    if (pathname === '/api/v1/query_range') {
      queries.push(url.searchParams);
      const q = url.searchParams.get('query') ?? '';
      if (q.includes('broken')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ status: 'error', error: 'parse error' }));
      }
      const quantile = Number(/histogram_quantile\(([\d.]+)/.exec(q)?.[1]);
      const start = Number(url.searchParams.get('start'));
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [
              {
                metric: {},
                values: [
                  [start, String(quantile / 100)],
                  [start + 1, 'NaN'],
                  [start + 2, String(quantile / 50)],
                ],
              },
            ],
          },
        }),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
  promUrl = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => prom.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

describe('Prometheus snapshots', () => {
  const window = { function: 'word-stats-node', runtime: 'node', start: '2026-01-01T10:00:00.000Z', end: '2026-01-01T10:01:50.000Z' };

  it('builds histogram_quantile queries over the histograms of docs/design.md §6.1', () => {
    expect(quantileQuery('function_latency_seconds', 0.95, 'word-stats-node', 30)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(function_latency_seconds_bucket{function="word-stats-node"}[30s])))',
    );
    expect(stepFor(window)).toBe(2);
  });

  it('queries each metric × quantile over the window, in milliseconds, dropping NaN', async () => {
    queries.length = 0;
    instantQueries.length = 0;
    expect(await prometheusReady(promUrl)).toBe(true);
    expect(await prometheusReady('http://127.0.0.1:1')).toBe(false);
    const snap = await snapshotWindow(promUrl, window);
    expect(queries).toHaveLength(9);
    const metrics = queries.map((q) => /rate\((\w+)_bucket/.exec(q.get('query') ?? '')?.[1]);
    expect(new Set(metrics)).toEqual(new Set(['function_latency_seconds', 'function_queue_wait_seconds', 'function_e2e_latency_seconds']));
    expect(queries[0]?.get('start')).toBe(String(Date.parse(window.start) / 1000));
    expect(queries[0]?.get('end')).toBe(String(Date.parse(window.end) / 1000));
    expect(queries[0]?.get('step')).toBe('2');
    const start = Date.parse(window.start) / 1000;
    expect(snap.series.latency.p95).toEqual([
      [start, 9.5],
      [start + 2, 19],
    ]);
    expect(Object.keys(snap.series.e2e)).toEqual(['p50', 'p95', 'p99']);
    // Whole window: read at the scrape after the end, over the 111 s since the start.
    expect(instantQueries[0]?.get('query')).toBe('min(timestamp(function_e2e_latency_seconds_count{function="word-stats-node"}))');
    const at = String(Date.parse('2026-01-01T10:01:51.000Z') / 1000);
    expect(instantQueries[1]?.get('query')).toBe('max(timestamp(function_e2e_latency_seconds_count{function="word-stats-node"}))');
    expect(instantQueries.slice(2).map((q) => q.get('time'))).toEqual(Array(12).fill(at));
    expect(instantQueries.slice(2).map((q) => q.get('query'))).toContain(
      windowQuantileQuery('function_e2e_latency_seconds', 0.95, 'word-stats-node', 111_000),
    );
    expect(snap.whole).toEqual({
      at: '2026-01-01T10:01:51.000Z',
      complete: true,
      percentiles: {
        latency: { p50: 50, p95: 95, p99: 99 },
        queueWait: { p50: 50, p95: 95, p99: 99 },
        e2e: { p50: 50, p95: 95, p99: 99 },
      },
      counts: { latency: 1234, queueWait: null, e2e: 1234 },
    });
    saveSnapshot(work, promUrl, snap);
    saveSnapshot(work, promUrl, { ...snap, function: 'other' });
    saveSnapshot(work, promUrl, snap);
    const file = JSON.parse(readFileSync(join(work, 'prometheus.json'), 'utf8'));
    expect(file.windows.map((w: { function: string }) => w.function)).toEqual(['other', 'word-stats-node']);
  });

  it('reads whole-window buckets as a difference of raw counters since the start', () => {
    const sel = 'function_latency_seconds_bucket{function="f"}';
    expect(windowQuantileQuery('function_latency_seconds', 0.5, 'f', 12_345)).toBe(
      `histogram_quantile(0.5, sum by (le) (${sel}) - (sum by (le) (${sel} offset 12345ms) or sum by (le) (${sel}) * 0))`,
    );
    expect(windowCountQuery('function_latency_seconds', 'f', 1000)).toBe(
      'sum(function_latency_seconds_count{function="f"}) - (sum(function_latency_seconds_count{function="f"} offset 1000ms) or vector(0))',
    );
  });

  it('does not wait for a series Prometheus does not have, and says when the last scrape never came', async () => {
    instantQueries.length = 0;
    const absent = await snapshotWindow(promUrl, { ...window, function: 'absent' }, { ingestTimeoutMs: 60_000 });
    expect(instantQueries.filter((q) => q.get('query')?.startsWith('min(timestamp('))).toHaveLength(1);
    expect(absent.whole?.complete).toBe(false);
    expect(absent.whole?.at).toBe(window.end);
    expect(absent.whole?.percentiles.e2e).toEqual({ p50: null, p95: null, p99: null });
    expect(absent.whole?.counts.e2e).toBeNull();

    instantQueries.length = 0;
    const lagging = await snapshotWindow(promUrl, { ...window, function: 'lagging' }, { ingestTimeoutMs: 300, pollMs: 50 });
    expect(instantQueries.filter((q) => q.get('query')?.startsWith('min(timestamp(')).length).toBeGreaterThan(2);
    expect(lagging.whole?.complete).toBe(false);
    // Read at the window's end: 110 s after its start.
    expect(lagging.whole?.at).toBe(window.end);
    expect(instantQueries.at(-1)?.get('query')).toContain('offset 110000ms');
    expect(lagging.whole?.percentiles.e2e.p95).toBe(95);
  });

  it('records no whole-window figure across a control-plane restart (counters went down)', async () => {
    instantQueries.length = 0;
    const snap = await snapshotWindow(promUrl, { ...window, function: 'restarted' });
    expect(snap.whole?.counts).toEqual({ latency: null, queueWait: null, e2e: null });
    expect(snap.whole?.percentiles.e2e).toEqual({ p50: null, p95: null, p99: null });
    expect(instantQueries.filter((q) => q.get('query')?.startsWith('histogram_quantile('))).toHaveLength(0);
  });

  it('keeps a path prefix of PROM_URL', async () => {
    paths.length = 0;
    const snap = await snapshotWindow(`${promUrl}/prom`, window);
    expect(paths.length).toBe(9 + 14);
    expect(new Set(paths)).toEqual(new Set(['/prom/api/v1/query_range', '/prom/api/v1/query']));
    expect(snap.series.latency.p95!.length).toBe(2);
  });

  it('names Prometheus and the query when it refuses', async () => {
    await expect(snapshotWindow(promUrl, { ...window, function: 'broken' })).rejects.toThrow(
      /Prometheus \/api\/v1\/query_range answered 400: parse error \(query: histogram_quantile/,
    );
  });
});

describe('Grafana start', () => {
  it('runs docker compose with PROM_URL when Docker answers (FAKE docker on PATH)', async () => {
    const root = join(work, 'repo');
    const bin = join(work, 'bin');
    mkdirSync(join(root, 'grafana'), { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(root, 'grafana', 'docker-compose.yml'), 'services: {}\n');
    const log = join(work, 'docker-calls.jsonl');
    writeFileSync(
      join(bin, 'docker'),
      `#!/usr/bin/env node\nrequire('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), prom: process.env.PROM_URL }) + '\\n');\n`,
    );
    chmodSync(join(bin, 'docker'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const state = new StateDir(join(work, 'state'));
    const before = Date.now();
    const outcome = await startGrafana(root, env, 'http://10.0.0.5:30090', state);
    expect(outcome).toEqual({ started: true, message: 'Grafana: http://localhost:3000/d/nanofaas-functions (admin/admin)' });
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(calls.map((c) => c.args.slice(0, 2))).toEqual([
      ['info', '--format'],
      ['compose', 'version'],
      ['compose', '-f'],
    ]);
    expect(calls.at(-1)).toEqual({
      args: ['compose', '-f', join(root, 'grafana', 'docker-compose.yml'), 'up', '-d'],
      prom: 'http://10.0.0.5:30090',
    });
    // Recorded in <state>/grafana.json so `nanofaas down` runs compose down with the same PROM_URL.
    const record = state.grafana();
    expect(record).toMatchObject({
      composeFile: join(root, 'grafana', 'docker-compose.yml'),
      env: { PROM_URL: 'http://10.0.0.5:30090' },
      url: 'http://localhost:3000/d/nanofaas-functions',
    });
    expect(Date.parse(record?.startedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(JSON.parse(readFileSync(join(work, 'state', 'grafana.json'), 'utf8'))).toEqual(record);

    // Not started → nothing recorded (down must not try to stop a stack nobody started).
    const untouched = new StateDir(join(work, 'state-untouched'));
    expect((await startGrafana(root, { ...env, SKIP_GRAFANA: 'true' }, undefined, untouched)).message).toBe(
      'Grafana: not started (SKIP_GRAFANA is set)',
    );
    expect((await startGrafana(root, { PATH: work }, undefined, untouched)).message).toMatch(/Docker is not usable here/);
    writeFileSync(
      join(bin, 'docker'),
      `#!/usr/bin/env node\nif (process.argv[2] === 'compose' && process.argv[3] !== 'version') { process.stderr.write('no such service\\n'); process.exit(1); }\n`,
    );
    expect((await startGrafana(root, env, undefined, untouched)).message).toBe('Grafana: docker compose up failed (no such service)');
    expect(untouched.grafana()).toBeUndefined();
  });
});

describe('output parity', () => {
  it('compares as parsed JSON', () => {
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2.0 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });

  it('reports only the vectors some function gets wrong', async () => {
    const vectors = [
      { name: 'ok', input: 'a', output: { n: 1 } },
      { name: 'rejects', input: '', error: 'INVALID_INPUT' },
    ];
    const invoke = async (fn: string, input: unknown): Promise<Answer> => {
      if (input === '') return fn === 'f-java' ? { ok: true, output: { n: 0 } } : { ok: false, status: 400, error: 'INVALID_INPUT' };
      return { ok: true, output: { n: 1 } };
    };
    const found = await checkParity('w', ['f-node', 'f-java'], vectors, invoke);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ vector: 'rejects', expected: 'error INVALID_INPUT' });
    expect(found[0]?.answers).toEqual([
      { function: 'f-node', answer: 'error INVALID_INPUT (HTTP 400)', matches: true },
      { function: 'f-java', answer: '{"n":0}', matches: false },
    ]);
  });
});
