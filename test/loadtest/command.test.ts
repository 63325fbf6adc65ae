import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { sameJson, type Vector } from '../../src/loadtest/parity.js';

const root = join(import.meta.dirname, '..', '..');
const vectors = JSON.parse(readFileSync(join(root, 'functions', 'testdata', 'word-stats.json'), 'utf8')) as Vector[];
const work = mkdtempSync(join(tmpdir(), 'loadtest-cmd-'));

/**
 * A stand-in control plane on 127.0.0.1: two word-stats functions that answer the shared vectors
 * from the vector file itself, and load inputs with a word count. `word-stats-node` can be told
 * to stray on one vector, to exercise the parity diff.
 */
let server: Server;
let baseUrl: string;
let strayNode = false;
const invoked: Record<string, number> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'GET' && req.url === '/v1/functions') {
        return send(200, ['word-stats-python', 'word-stats-node', 'something-else'].map((name) => ({ name, timeoutMs: 30000, concurrency: 4, queueSize: 100, maxRetries: 3, runtimeMode: 'HTTP', executionMode: 'LOCAL', replicas: 1 })));
      }
      const m = /^\/v1\/functions\/([^/:]+):invoke$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        const fn = m[1] ?? '';
        invoked[fn] = (invoked[fn] ?? 0) + 1;
        const input = (JSON.parse(body) as { input: unknown }).input;
        const vector = vectors.find((v) => sameJson(v.input, input));
        if (vector?.error) return send(400, { executionId: 'x', status: 'error', error: vector.error, message: 'rejected' });
        if (vector) {
          const output = strayNode && fn === 'word-stats-node' && vector.name === vectors[0]?.name ? { ...(vector.output as object), wordCount: 99 } : vector.output;
          return send(200, { executionId: 'x', status: 'success', output });
        }
        const text = (input as { text: string }).text;
        return send(200, { executionId: 'x', status: 'success', output: { wordCount: text.split(' ').length } });
      }
      send(404, { error: 'NOT_FOUND', message: req.url });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(args, {
    env: { PATH: process.env.PATH ?? '', NANOFAAS_URL: baseUrl, NANOFAAS_STATE_DIR: join(work, 'state'), SKIP_GRAFANA: 'true', NO_COLOR: '1', CI: 'true', ...env },
    rootDir: root,
    stdout,
    stderr,
  });
  return { code, stdout: out, stderr: err };
}

describe('nanofaas loadtest (against a local stand-in control plane)', () => {
  it('checks parity, loads each function, writes summaries, windows and the report', async () => {
    const results = join(work, 'ok');
    writeFileSync(join(work, 'stale.json'), '{}');
    const r = await cli(['loadtest', '--engine', 'builtin', '--stages', '300ms:2,600ms:2', '--think-time', '0.02', '--cool-down', '0', '--results-dir', results]);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    for (const fn of ['word-stats-python', 'word-stats-node']) {
      const summary = JSON.parse(readFileSync(join(results, `${fn}.json`), 'utf8'));
      expect(summary.metrics.http_reqs.count).toBeGreaterThan(10);
      expect(summary.metrics.http_req_failed.value).toBe(0);
      expect(summary.nanofaas).toMatchObject({ function: fn, engine: 'builtin', mode: 'sync' });
      expect(readFileSync(join(results, `${fn}.log`), 'utf8')).toContain(`start ${fn}`);
      // Every vector went to every function before the load.
      expect(invoked[fn]).toBeGreaterThanOrEqual(vectors.length + summary.metrics.http_reqs.count);
    }
    const windows = readFileSync(join(results, 'test-windows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(windows.map((w) => [w.function, w.runtime])).toEqual([['word-stats-python', 'python'], ['word-stats-node', 'node']]);
    const report = JSON.parse(readFileSync(join(results, 'report.json'), 'utf8'));
    const python = JSON.parse(readFileSync(join(results, 'word-stats-python.json'), 'utf8'));
    expect(report.functions[0].figures.reqs).toBe(python.metrics.http_reqs.count);
    expect(report.functions[0].figures.p95).toBe(python.metrics.http_req_duration['p(95)']);
    expect(existsSync(join(results, 'report.html'))).toBe(true);
    expect(r.stdout).toMatch(/word-stats-python\s+python\s+\d+\s+0\.00%/);
    expect(r.stdout).toContain('Thresholds: all passed');
    expect(invoked['something-else']).toBeUndefined();
  });

  it('exits 99 when a threshold fails', async () => {
    const profile = JSON.parse(readFileSync(join(root, 'k6', 'profile.json'), 'utf8'));
    profile.thresholds.python = { p95Ms: 0.001, p99Ms: 5000, failedRate: 0.15 };
    const path = join(work, 'strict-profile.json');
    writeFileSync(path, JSON.stringify(profile));
    const r = await cli(['loadtest', '--profile', path, '--engine', 'builtin', '--runtimes', 'python', '--skip-parity', '--stages', '200ms:1,300ms:1', '--cool-down', '0', '--results-dir', join(work, 'strict')]);
    expect(r.code).toBe(99);
    expect(r.stderr).toContain('thresholds failed for word-stats-python (exit 99)');
    expect(r.stdout).toContain('FAIL p(95)<0.001');
  });

  it('stops with a readable diff when runtimes disagree', async () => {
    strayNode = true;
    try {
      const r = await cli(['loadtest', '--engine', 'builtin', '--stages', '200ms:1', '--results-dir', join(work, 'parity')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Output parity across runtimes');
      expect(r.stderr).toContain(`word-stats / ${vectors[0]?.name}`);
      expect(r.stderr).toMatch(/✗ word-stats-node\s+\{"wordCount":99/);
      expect(r.stderr).toMatch(/ {3}word-stats-python\s+\{"wordCount":3/);
      expect(existsSync(join(work, 'parity', 'word-stats-node.json'))).toBe(false);
    } finally {
      strayNode = false;
    }
  });

  it('rejects bad flags with exit 2 and names unregistered functions', async () => {
    const stages = await cli(['loadtest', '--stages', '5s']);
    expect(stages.code).toBe(2);
    expect(stages.stderr).toContain('invalid stage "5s"');
    expect((await cli(['loadtest', '--mode', 'later'])).code).toBe(2);
    expect((await cli(['loadtest', '--think-time', 'abc'])).code).toBe(2);
    const missing = await cli(['loadtest', '--engine', 'builtin', '--functions', 'nope', '--results-dir', join(work, 'missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not registered: nope');
    const k6 = await cli(['loadtest', '--engine', 'k6'], { PATH: work });
    expect(k6.code).toBe(1);
    expect(k6.stderr).toContain('k6 is not on PATH');
  });
});

describe('nanofaas report (command)', () => {
  it('names a corrupt result file in one line and exits 1', async () => {
    const dir = join(work, 'corrupt');
    const r0 = await cli(['loadtest', '--engine', 'builtin', '--skip-parity', '--runtimes', 'node', '--stages', '100ms:1,300ms:1', '--cool-down', '0', '--results-dir', dir]);
    expect(r0.code).toBe(0);
    const ok = await cli(['report', '--results-dir', dir, '--baseline', dir, '--format', 'md']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/word-stats-node\s+node\s+\d+ Δ ±0 \(±0\.0%\)/);
    writeFileSync(join(dir, 'word-stats-node.json'), '{"metrics": ');
    const bad = await cli(['report', '--results-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('nanofaas:'))).toEqual([`nanofaas: ${join(dir, 'word-stats-node.json')}: corrupt result file, not valid JSON (Unexpected end of JSON input)`]);
  });
});
