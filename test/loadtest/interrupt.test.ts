import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { runLoad, type Progress } from '../../src/loadtest/engine.js';
import { parseProfile } from '../../src/loadtest/profile.js';
import { judge } from '../../src/loadtest/verdict.js';
import baseProfile from '../../k6/profile.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'loadtest-interrupt-'));
/** A profile far longer than any test: only an interrupt can end it early. */
const LONG = ['--stages', '1s:2,10m:2', '--think-time', '0.02', '--cool-down', '5', '--skip-parity', '--engine', 'builtin'];
const PROGRESS = /^word-stats-python: \d+\/\d+s · /m;

/** A stand-in control plane on 127.0.0.1 with two word-stats functions. */
let server: Server;
let baseUrl: string;
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
        return send(
          200,
          ['word-stats-python', 'word-stats-node'].map((name) => ({
            name,
            timeoutMs: 30000,
            concurrency: 4,
            queueSize: 100,
            maxRetries: 3,
            runtimeMode: 'HTTP',
            executionMode: 'LOCAL',
            replicas: 1,
          })),
        );
      }
      const m = /^\/v1\/functions\/([^/:]+):invoke$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        invoked[m[1] ?? ''] = (invoked[m[1] ?? ''] ?? 0) + 1;
        const text = (JSON.parse(body) as { input: { text: string } }).input.text;
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

const env = (state: string) => ({
  PATH: process.env.PATH ?? '',
  NANOFAAS_URL: baseUrl,
  NANOFAAS_STATE_DIR: join(work, state),
  SKIP_GRAFANA: 'true',
  NO_COLOR: '1',
  CI: 'true',
});
const summaryOf = (dir: string, fn: string) => JSON.parse(readFileSync(join(dir, `${fn}.json`), 'utf8'));

describe('an interrupted load run is never a pass', () => {
  it('the engine stops at once on the signal and says its run was interrupted', async () => {
    const profile = parseProfile({ ...baseProfile, stages: [{ duration: '10m', target: 2 }], thinkTimeSeconds: 0.02 });
    const abort = new AbortController();
    const events: Progress[] = [];
    const result = await runLoad(
      { baseUrl, function: 'word-stats-python', workload: 'word-stats', runtime: 'python' },
      {
        profile,
        mode: 'sync',
        progressIntervalMs: 100,
        signal: abort.signal,
        onProgress: (p) => {
          events.push(p);
          // The first report proves the load is running: interrupt it then.
          if (!p.final) abort.abort();
        },
      },
    );
    expect(result.interrupted).toBe(true);
    expect(result.summary.nanofaas?.interrupted).toBe(true);
    expect(result.end.getTime() - result.start.getTime()).toBeLessThan(60_000);
    const verdict = judge(result.summary, { p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 });
    expect(verdict.passed).toBe(false);
    expect(verdict.interrupted).toBe(true);
    // The final report closes the run and carries the summary's count.
    expect(events.filter((e) => e.final)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ final: true, requests: result.summary.metrics.http_reqs.count });
  });

  it('Ctrl-C during the first function: exit 130, that run recorded as interrupted, no cool-down, no next function; report says INTERRUPTED', async () => {
    const dir = join(work, 'in-process');
    const abort = new AbortController();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (PROGRESS.test(err)) abort.abort();
    });
    const code = await run(['loadtest', ...LONG, '--results-dir', dir], {
      env: env('state-a'),
      rootDir: root,
      stdout,
      stderr,
      signal: abort.signal,
    });
    expect(code).toBe(130);
    expect(err).toContain(
      'nanofaas: interrupted; the results so far are kept (a stopped run is marked interrupted): `nanofaas report --results-dir',
    );
    expect(err).not.toContain('thresholds');
    expect(summaryOf(dir, 'word-stats-python').nanofaas).toMatchObject({ function: 'word-stats-python', interrupted: true });
    expect(existsSync(join(dir, 'word-stats-node.json'))).toBe(false);
    expect(invoked['word-stats-node']).toBeUndefined();

    const reportArgs = ['report', '--results-dir', dir];
    let reportOut = '';
    const reportStdout = new PassThrough();
    reportStdout.on('data', (c: Buffer) => (reportOut += c.toString()));
    expect(await run(reportArgs, { env: env('state-a'), rootDir: root, stdout: reportStdout, stderr: new PassThrough() })).toBe(0);
    expect(reportOut).toMatch(/^word-stats-python\s+python\s+\d+.*INTERRUPTED$/m);
    expect(reportOut).not.toContain('PASS');
    expect(reportOut).toContain('Thresholds: INTERRUPTED (partial run, not judged): word-stats-python');
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/\| word-stats-python \| python \|.*\| INTERRUPTED \|/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<td class="fail">INTERRUPTED</td>');
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(json.thresholdsPassed).toBe(false);
    expect(json.interrupted).toEqual(['word-stats-python']);
    expect(json.functions[0]).toMatchObject({
      function: 'word-stats-python',
      interrupted: true,
      verdict: { passed: false, interrupted: true },
    });
  });

  it('SIGINT to a non-TTY `nanofaas loadtest` after its first progress line: exit 130, no ✔ for the stopped run or a cool-down', async () => {
    const dir = join(work, 'child');
    const child = spawn(process.execPath, [join(root, 'bin', 'nanofaas'), 'loadtest', ...LONG, '--results-dir', dir], {
      env: env('state-b'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      const first = !PROGRESS.test(err);
      err += c.toString();
      if (first && PROGRESS.test(err)) child.kill('SIGINT');
    });
    const [code] = await once(child, 'close');
    expect(code, err).toBe(130);
    expect(out).not.toMatch(/✔ Load word-stats-python/);
    expect(out).not.toMatch(/Cool-down/);
    expect(out).not.toMatch(/Load word-stats-node/);
    expect(
      err
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('nanofaas:')),
    ).toHaveLength(1);
    expect(summaryOf(dir, 'word-stats-python').nanofaas.interrupted).toBe(true);
    expect(existsSync(join(dir, 'word-stats-node.json'))).toBe(false);
  });
});
