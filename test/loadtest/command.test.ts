import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationLine } from '../../src/cli/loadtest.js';
import { loadProfile } from '../../src/loadtest/profile.js';
import { sameJson, type Vector } from '../../src/loadtest/parity.js';
import { type Finished, nanofaas } from '../cli/cli-process.js';
import { type InProcessRun, runInProcess } from '../cli/run-in-process.js';
import { loadtestEnv, type StandIn, startStandIn } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const vectors = JSON.parse(readFileSync(join(root, 'functions', 'testdata', 'word-stats.json'), 'utf8')) as Vector[];
const work = mkdtempSync(join(tmpdir(), 'loadtest-cmd-'));

/**
 * A stand-in control plane on 127.0.0.1: two word-stats functions that answer the shared vectors
 * from the vector file itself, and load inputs with a word count. `word-stats-node` can be told
 * to stray on one vector, to exercise the parity diff.
 */
let standIn: StandIn;
let baseUrl: string;
let invoked: Record<string, number>;
let strayNode = false;

beforeAll(async () => {
  standIn = await startStandIn(['word-stats-python', 'word-stats-node', 'something-else'], (fn, input) => {
    const vector = vectors.find((v) => sameJson(v.input, input));
    if (vector?.error) return { status: 400, body: { executionId: 'x', status: 'error', error: vector.error, message: 'rejected' } };
    if (!vector) return undefined;
    const output =
      strayNode && fn === 'word-stats-node' && vector.name === vectors[0]?.name
        ? { ...(vector.output as object), wordCount: 99 }
        : vector.output;
    return { status: 200, body: { executionId: 'x', status: 'success', output } };
  });
  ({ baseUrl, invoked } = standIn);
});

afterAll(async () => {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<InProcessRun> {
  return runInProcess(args, { env: { ...loadtestEnv(baseUrl, join(work, 'state')), ...env } });
}

/** The built CLI as a child process (the step list goes to its own stdout), with the Grafana step on. */
async function cliProcess(args: string[], env: Record<string, string>): Promise<Finished> {
  return nanofaas(args, { NANOFAAS_URL: baseUrl, NANOFAAS_STATE_DIR: join(work, 'state'), NO_COLOR: '1', CI: 'true', ...env });
}

/** `nanofaas loadtest` with the builtin engine and no parity check: what most cases here run. */
function quickLoad(o: { stages: string; results: string; runtimes?: string; coolDown?: string; thinkTime?: string }): string[] {
  const args = ['loadtest', '--engine', 'builtin', '--skip-parity', '--stages', o.stages, '--results-dir', o.results];
  args.push('--cool-down', o.coolDown ?? '0');
  if (o.runtimes) args.push('--runtimes', o.runtimes);
  if (o.thinkTime) args.push('--think-time', o.thinkTime);
  return args;
}

describe('nanofaas loadtest (against a local stand-in control plane)', () => {
  it('checks parity, loads each function, writes summaries, windows and the report', async () => {
    const results = join(work, 'ok');
    writeFileSync(join(work, 'stale.json'), '{}');
    const r = await cli([
      'loadtest',
      '--engine',
      'builtin',
      '--stages',
      '300ms:2,600ms:2',
      '--think-time',
      '0.02',
      '--cool-down',
      '0',
      '--results-dir',
      results,
    ]);
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
    const windows = readFileSync(join(results, 'test-windows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(windows.map((w) => [w.function, w.runtime])).toEqual([
      ['word-stats-python', 'python'],
      ['word-stats-node', 'node'],
    ]);
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
    const r = await cli([
      ...quickLoad({ runtimes: 'python', stages: '200ms:1,300ms:1', results: join(work, 'strict') }),
      '--profile',
      path,
    ]);
    expect(r.code).toBe(99);
    expect(r.stderr).toContain('thresholds failed for word-stats-python (exit 99)');
    expect(r.stdout).toContain('FAIL p95'); // the terminal names the limit that broke; report.md has the expression
    expect(readFileSync(join(work, 'strict', 'report.md'), 'utf8')).toContain('FAIL p(95)<0.001');
  });

  it('stops with a readable diff when runtimes disagree', async () => {
    strayNode = true;
    try {
      const r = await cli(['loadtest', '--engine', 'builtin', '--stages', '100ms:1,200ms:1', '--results-dir', join(work, 'parity')]);
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

describe('loadtest says what it will do, and only what it can', () => {
  it('refuses a plan too short to send a request, in one line with the fix (exit 2)', async () => {
    const before = { ...invoked };
    const r = await cli(['loadtest', '--engine', 'builtin', '--stages', '2s:1', '--results-dir', join(work, 'unsendable')]);
    expect(r.code).toBe(2);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('target:')),
    ).toEqual([
      'nanofaas: --stages 2s:1 cannot send a request: ramping up (like k6), the first VU starts only when the 2 s run ends; add a stage that holds the VUs, e.g. --stages 2s:1,10s:1',
    ]);
    expect(invoked).toEqual(before);
    const zero = await cli(['loadtest', '--stages', '5s:0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain(
      '--stages 5s:0 cannot send a request: every stage targets 0 VUs; give one stage at least 1 VU, e.g. --stages 10s:1',
    );
    // The fix it suggests is accepted.
    const fixed = await cli(quickLoad({ runtimes: 'node', stages: '200ms:1,300ms:1', results: join(work, 'sendable') }));
    expect(fixed.code).toBe(0);
  });

  it('hints keep the global flags the user gave', async () => {
    const state = join(work, 'hint state');
    const missing = await cli([
      '--state-dir',
      state,
      'loadtest',
      '--engine',
      'builtin',
      '--functions',
      'nope',
      '--results-dir',
      join(work, 'hints'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `hint: register them with \`nanofaas up --state-dir "${state}"\` or \`nanofaas functions register --state-dir "${state}"\``,
    );
    const report = await cli(['--state-dir', state, 'report', '--results-dir', join(work, 'no-such-results')]);
    expect(report.code).toBe(1);
    expect(report.stderr).toContain(`(run \`nanofaas loadtest --state-dir "${state}"\` first, or pass --results-dir)`);
  });

  it('says how long the load will take before it starts', async () => {
    const r = await cli(quickLoad({ stages: '300ms:1,600ms:1', coolDown: '0.5', results: join(work, 'duration') }));
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    const at = lines.indexOf('load: about 2.3 s for 2 functions (0.9 s each, 0.5 s cool-down between)');
    expect(at).toBeGreaterThan(-1);
    expect(at).toBeLessThan(lines.findIndex((l) => l.startsWith('word-stats-python: ')));
    expect(durationLine(loadProfile(join(root, 'k6', 'profile.json')), 4)).toBe(
      'about 7 min 50 s for 4 functions (1 min 50 s each, 10 s cool-down between)',
    );
  });

  it('the last progress line of each function (non-TTY) shows the summary’s req/s', async () => {
    const results = join(work, 'progress');
    // Uneven load (4 VUs, then 1): the last second's rate is far from the run's average.
    const r = await cli(quickLoad({ stages: '500ms:4,500ms:4,1s:1', thinkTime: '0.01', results }));
    expect(r.code).toBe(0);
    for (const fn of ['word-stats-python', 'word-stats-node']) {
      const progress = r.stderr.split('\n').filter((l) => l.startsWith(`${fn}: `));
      expect(progress.length).toBeGreaterThanOrEqual(1);
      const last = /· ([\d.]+) req\/s(?: avg)? · p95 ([\d.]+) ms · (\d+) failed of (\d+)$/.exec(progress.at(-1) ?? '');
      expect(last, progress.at(-1)).not.toBeNull();
      const row =
        r.stdout
          .split('\n')
          .find((l) => l.startsWith(`${fn} `))
          ?.trim()
          .split(/\s{2,}/) ?? [];
      const summary = JSON.parse(readFileSync(join(results, `${fn}.json`), 'utf8'));
      expect(last?.[1]).toBe(row[9]);
      expect(last?.[1]).toBe(summary.metrics.iterations.rate.toFixed(1));
      expect(Number(last?.[4])).toBe(summary.metrics.http_reqs.count);
      expect(row[2]).toBe(String(summary.metrics.http_reqs.count));
    }
  });

  it('shows a Grafana step it could not do as skipped with the reason, never ✔ (FAKE docker without compose on PATH)', async () => {
    const bin = join(work, 'fake-docker-bin');
    mkdirSync(bin, { recursive: true });
    // FAKE docker: the daemon answers, the compose plugin is missing (Docker cannot run here).
    writeFileSync(
      join(bin, 'docker'),
      '#!/bin/sh\nif [ "$1" = info ]; then echo 27.5.1; exit 0; fi\necho "docker: unknown command: docker $1" >&2\nexit 1\n',
    );
    chmodSync(join(bin, 'docker'), 0o755);
    const args = quickLoad({ runtimes: 'node', stages: '100ms:1,200ms:1', results: join(work, 'grafana') });
    const r = await cliProcess(args, { PATH: bin });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '↓ Grafana dashboard [SKIPPED: Docker has no Compose (neither `docker compose version` nor `docker-compose version` works)',
    );
    expect(r.stdout).not.toContain('✔ Grafana dashboard');

    // FAKE docker whose compose answers `version` but whose `up` fails: the step fails with the reason.
    writeFileSync(
      join(bin, 'docker'),
      '#!/bin/sh\nif [ "$1" = info ]; then echo 27.5.1; exit 0; fi\nif [ "$2" = version ]; then echo "Docker Compose version v2.29.7"; exit 0; fi\necho "Bind for 0.0.0.0:3000 failed: port is already allocated" >&2\nexit 1\n',
    );
    const failed = await cliProcess(args, { PATH: bin });
    expect(failed.code).toBe(1);
    expect(failed.stdout).not.toContain('✔ Grafana dashboard');
    expect(failed.stderr).toContain(
      '✖ Grafana dashboard failed: Grafana: docker compose up failed (Bind for 0.0.0.0:3000 failed: port is already allocated)',
    );
    expect(failed.stderr).toContain(
      'hint: fix Docker Compose (see the message), or set SKIP_GRAFANA=true to load-test without the dashboard',
    );
  });
});

describe('nanofaas report (command)', () => {
  it('names a corrupt result file in one line and exits 1', async () => {
    const dir = join(work, 'corrupt');
    const r0 = await cli(quickLoad({ runtimes: 'node', stages: '100ms:1,300ms:1', results: dir }));
    expect(r0.code).toBe(0);
    const ok = await cli(['report', '--results-dir', dir, '--baseline', dir, '--format', 'md']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/word-stats-node\s+node\s+\d+ ±0 /); // the terminal's changes are percentages, none here
    writeFileSync(join(dir, 'word-stats-node.json'), '{"metrics": ');
    const bad = await cli(['report', '--results-dir', dir]);
    expect(bad.code).toBe(1);
    expect(
      bad.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('nanofaas:')),
    ).toEqual([`nanofaas: ${join(dir, 'word-stats-node.json')}: corrupt result file, not valid JSON (Unexpected end of JSON input)`]);
  });
});
