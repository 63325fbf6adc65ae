import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The k6 scripts' own profile reader: plain JS without k6 imports, so Node can run it here.
import * as k6Profile from '../../k6/lib/profile.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { renderK6Script } from '../../src/loadtest/k6-scripts.js';
import { buildInput, checkName, passesCheck, workloadPayload } from '../../src/loadtest/payload.js';
import {
  applyOverrides,
  isOpenModel,
  loadProfile,
  parseProfile,
  parseStages,
  thresholdExpressions,
  thresholdsFor,
} from '../../src/loadtest/profile.js';
import { scheduleOf } from '../../src/loadtest/arrival.js';

const root = join(import.meta.dirname, '..', '..');
const profilePath = join(root, 'k6', 'profile.json');
const profile = loadProfile(profilePath);
const rawProfile = JSON.parse(readFileSync(profilePath, 'utf8')) as Record<string, unknown>;
const catalog = loadCatalog(root).functions;

function loadProfileFrom(raw: unknown) {
  return parseProfile(raw, 'test profile');
}

/** A replayable [0, 1) sequence so both readers draw the same payload. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('k6 scripts and the built-in engine read the same profile', () => {
  it('has one committed script per catalog function, each the generated text reading ../profile.json', () => {
    const scripts = readdirSync(join(root, 'k6', 'scripts'))
      .filter((f) => f.endsWith('.js'))
      .sort();
    expect(scripts).toEqual(catalog.map((f) => `${f.name}.js`).sort());
    for (const entry of catalog) {
      const text = readFileSync(join(root, 'k6', 'scripts', `${entry.name}.js`), 'utf8');
      expect(
        text,
        `k6/scripts/${entry.name}.js is stale: npm run build && node -e "import('./dist/loadtest/k6-scripts.js').then((m) => m.writeK6Scripts('.'))"`,
      ).toBe(renderK6Script(entry));
      expect(text).toContain("open('../profile.json')");
      expect(text).toContain("from '../lib/nanofaas.js'");
    }
  });

  it('the shared k6 module builds options.stages and thresholds from the profile', () => {
    const lib = readFileSync(join(root, 'k6', 'lib', 'nanofaas.js'), 'utf8');
    expect(lib).toContain("import http from 'k6/http'");
    expect(lib).toContain("import { check, sleep } from 'k6'");
    expect(lib).toContain('buildOptions(profile, fn.runtime, env)');
    for (const entry of catalog) {
      const options = k6Profile.buildOptions(rawProfile, entry.runtime, {});
      expect(options.scenarios.load.stages).toEqual(profile.stages);
      expect(options.thresholds).toEqual(thresholdExpressions(thresholdsFor(profile, entry.runtime)));
      expect(options.summaryTrendStats).toContain('p(99)');
    }
    expect(k6Profile.buildOptions(rawProfile, 'java', {}).thresholds).toEqual({
      http_req_duration: ['p(95)<3000', 'p(99)<5000'],
      http_req_failed: ['rate<0.15'],
    });
    expect(k6Profile.buildOptions(rawProfile, 'exec', {}).thresholds).toEqual({
      http_req_duration: ['p(95)<5000', 'p(99)<10000'],
      http_req_failed: ['rate<0.2'],
    });
  });

  it('spreads the VUs over NANOFAAS_URLS in turn by VU number, else sends to NANOFAAS_URL or the default', () => {
    const env = { NANOFAAS_URL: 'http://a:1', NANOFAAS_URLS: 'http://a:1/, http://b:2,,http://c:3' };
    expect([1, 2, 3, 4, 5, 6].map((vu) => k6Profile.baseUrlOf(env, vu))).toEqual([
      'http://a:1',
      'http://b:2',
      'http://c:3',
      'http://a:1',
      'http://b:2',
      'http://c:3',
    ]);
    expect(k6Profile.baseUrlOf({ NANOFAAS_URL: 'http://a:1//' }, 7)).toBe('http://a:1');
    expect(k6Profile.baseUrlOf({}, 0)).toBe('http://127.0.0.1:8080');
  });

  it('parses a --stages override identically', () => {
    for (const spec of ['5s:3,10s:8', '500ms:1', '1m30s:20,10s:0']) {
      expect(k6Profile.parseStages(spec)).toEqual(parseStages(spec));
      expect(k6Profile.buildOptions(rawProfile, 'python', { STAGES: spec }).scenarios.load.stages).toEqual(parseStages(spec));
    }
    expect(() => k6Profile.parseStages('5s')).toThrow(/invalid stage/);
    expect(() => parseStages('5s')).toThrow(/invalid stage/);
  });

  it('an arrival rate makes both engines open-model: the same block, k6 arrival-rate executors', () => {
    // The default profile only sizes the pool: both stay closed-model.
    expect(isOpenModel(profile)).toBe(false);
    expect(k6Profile.buildOptions(rawProfile, 'java', {}).scenarios.load.executor).toBe('ramping-vus');
    // --rate 50/s --duration 20s: the CLI hands k6 the very block the built-in engine runs.
    const constant = applyOverrides(profile, { rate: 50, duration: '20s', maxVus: 300 });
    const fromCli = k6Profile.buildOptions(rawProfile, 'java', { ARRIVAL: JSON.stringify(constant.arrival) }).scenarios.load;
    expect(fromCli).toEqual({
      executor: 'constant-arrival-rate',
      rate: 50,
      timeUnit: '1s',
      duration: '20s',
      preAllocatedVUs: 10,
      maxVUs: 300,
      gracefulStop: '30s',
    });
    expect(scheduleOf(constant.arrival)?.totalMs).toBe(20_000);
    // A profile with stages of rates: ramping-arrival-rate, read from the file with no env at all.
    const ramping = { ...rawProfile, arrival: applyOverrides(profile, { rateStages: '10s:50,30s:200' }).arrival };
    const fromFile = k6Profile.buildOptions(ramping, 'node', {}).scenarios.load;
    expect(fromFile).toEqual({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1s',
      stages: [
        { duration: '10s', target: 50 },
        { duration: '30s', target: 200 },
      ],
      preAllocatedVUs: 10,
      maxVUs: 200,
      gracefulStop: '30s',
    });
    expect(isOpenModel(loadProfileFrom(ramping))).toBe(true);
    // The k6 module skips the think time when the profile is open-model, as the engine does.
    const lib = readFileSync(join(root, 'k6', 'lib', 'nanofaas.js'), 'utf8');
    expect(lib).toContain('arrivalOf(profile, env) !== undefined');
  });

  it('draws the same payloads from the same random sequence, and judges them alike', () => {
    for (const workload of Object.keys(profile.workloads)) {
      for (let seed = 1; seed <= 25; seed++) {
        const fromK6 = k6Profile.buildInput(rawProfile, workload, sequence(seed));
        const fromEngine = buildInput(workloadPayload(profile, workload), sequence(seed));
        expect(fromEngine).toEqual(fromK6);
      }
      const check = workloadPayload(profile, workload).check;
      expect(checkName(check)).toBe(k6Profile.checkName(rawProfile, workload));
      for (const body of [{ output: { wordCount: 3, groups: {} } }, { output: { wordCount: 0 } }, { output: {} }, undefined, 'text']) {
        expect(passesCheck(check, body)).toBe(k6Profile.checkOutput(rawProfile, workload, body));
      }
    }
  });

  it('payloads follow the default profile: 5 texts with topN 5; 20 {dept, salary, age} rows with a random operation', () => {
    const words = workloadPayload(profile, 'word-stats');
    const seen = new Set<string>();
    const rng = sequence(7);
    for (let i = 0; i < 200; i++) {
      const input = buildInput(words, rng) as { text: string; topN: number };
      expect(input.topN).toBe(5);
      seen.add(input.text);
    }
    expect(seen.size).toBe(5);
    const records = workloadPayload(profile, 'json-transform');
    const ops = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const input = buildInput(records, rng) as {
        data: Record<string, unknown>[];
        groupBy: string;
        operation: string;
        valueField?: string;
      };
      ops.add(input.operation);
      expect(input.data).toHaveLength(20);
      expect(Object.keys(input.data[0] ?? {}).sort()).toEqual(['age', 'dept', 'salary']);
      expect(input.groupBy).toBe('dept');
      expect(input.valueField).toBe(input.operation === 'count' ? undefined : 'salary');
    }
    expect([...ops].sort()).toEqual(['avg', 'count', 'max', 'min', 'sum']);
  });
});
