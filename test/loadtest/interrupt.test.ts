import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type Progress } from '../../src/loadtest/engine.js';
import { parseProfile } from '../../src/loadtest/profile.js';
import { judge } from '../../src/loadtest/verdict.js';
import baseProfile from '../../k6/profile.json' with { type: 'json' };
import { runInProcess } from '../cli/run-in-process.js';
import { loadtestEnv, type StandIn, startStandIn } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'loadtest-interrupt-'));
/** A profile far longer than any test: only an interrupt can end it early. */
const LONG = ['--stages', '1s:2,10m:2', '--think-time', '0.02', '--cool-down', '5', '--skip-parity', '--engine', 'builtin'];
const PROGRESS = /^word-stats-python: \d+\/\d+s · /m;

/** A stand-in control plane on 127.0.0.1 with two word-stats functions. */
let standIn: StandIn;
let baseUrl: string;

beforeAll(async () => {
  standIn = await startStandIn(['word-stats-python', 'word-stats-node']);
  baseUrl = standIn.baseUrl;
});

afterAll(async () => {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
});

const env = (state: string) => loadtestEnv(baseUrl, join(work, state));
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
    const { code, stderr: err } = await runInProcess(['loadtest', ...LONG, '--results-dir', dir], {
      env: env('state-a'),
      signal: abort.signal,
      onStderr: (stderr) => {
        if (PROGRESS.test(stderr)) abort.abort();
      },
    });
    expect(code).toBe(130);
    expect(err).toContain(
      'nanofaas: interrupted; the results so far are kept (a stopped run is marked interrupted): `nanofaas report --results-dir',
    );
    expect(err).not.toContain('thresholds');
    expect(summaryOf(dir, 'word-stats-python').nanofaas).toMatchObject({ function: 'word-stats-python', interrupted: true });
    expect(existsSync(join(dir, 'word-stats-node.json'))).toBe(false);
    expect(standIn.invoked['word-stats-node']).toBeUndefined();

    const report = await runInProcess(['report', '--results-dir', dir], { env: env('state-a') });
    expect(report.code).toBe(0);
    const reportOut = report.stdout;
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
