import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  applyOverrides,
  loadProfile,
  parseDurationMs,
  parseProfile,
  parseStages,
  thresholdsFor,
  totalDurationMs,
} from '../../src/loadtest/profile.js';
import { maxVus, vusAt } from '../../src/loadtest/ramp.js';

const profilePath = join(import.meta.dirname, '..', '..', 'k6', 'profile.json');

describe('load profile', () => {
  it('k6/profile.json holds the default load profile', () => {
    const profile = loadProfile(profilePath);
    expect(profile.stages).toEqual([
      { duration: '10s', target: 5 },
      { duration: '30s', target: 10 },
      { duration: '30s', target: 20 },
      { duration: '30s', target: 20 },
      { duration: '10s', target: 0 },
    ]);
    expect(totalDurationMs(profile.stages)).toBe(110_000);
    expect(profile.thinkTimeSeconds).toBe(0.1);
    expect(profile.coolDownSeconds).toBe(10);
    expect(profile.requestTimeoutSeconds).toBe(30);
    for (const runtime of ['java', 'python', 'node']) {
      expect(thresholdsFor(profile, runtime)).toEqual({ p95Ms: 3000, p99Ms: 5000, failedRate: 0.15 });
    }
    expect(thresholdsFor(profile, 'exec')).toEqual({ p95Ms: 5000, p99Ms: 10000, failedRate: 0.2 });
    expect(() => thresholdsFor(profile, 'cobol')).toThrow(/no thresholds for runtime "cobol"/);
  });

  it('names the file and the field of a bad profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profile-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...loadProfile(profilePath), thinkTimeSeconds: 'slow' }));
    expect(() => loadProfile(bad)).toThrow(`${bad}: invalid load profile at /thinkTimeSeconds`);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"stages": [');
    expect(() => loadProfile(broken)).toThrow(`${broken}: not valid JSON`);
    expect(() => loadProfile(join(dir, 'absent.json'))).toThrow(/cannot read the load profile \(ENOENT\)/);
    expect(() => parseProfile({ ...loadProfile(profilePath), stages: [{ duration: 'soon', target: 1 }] })).toThrow(
      /at \/stages\/0\/duration/,
    );
  });

  it('parses durations and the --stages override', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(() => parseDurationMs('10')).toThrow(/invalid duration "10"/);
    expect(() => parseDurationMs('10x')).toThrow(/invalid duration/);
    expect(() => parseDurationMs('s10s')).toThrow(/invalid duration/);
    expect(parseStages('5s:3,10s:8')).toEqual([
      { duration: '5s', target: 3 },
      { duration: '10s', target: 8 },
    ]);
    expect(parseStages(' 5s:3 , 1m:0')).toEqual([
      { duration: '5s', target: 3 },
      { duration: '1m', target: 0 },
    ]);
    for (const bad of ['5s', '5s:', '5s:x', '5s:-1', 'x:3', '5s:3:1', '']) {
      expect(() => parseStages(bad), bad).toThrow(/invalid (stage|duration)/);
    }
  });

  it('applies overrides and re-validates them', () => {
    const profile = loadProfile(profilePath);
    const next = applyOverrides(profile, { stages: '2s:4', thinkTimeSeconds: 0, coolDownSeconds: 1 });
    expect(next.stages).toEqual([{ duration: '2s', target: 4 }]);
    expect(next.thinkTimeSeconds).toBe(0);
    expect(next.coolDownSeconds).toBe(1);
    expect(next.thresholds).toEqual(profile.thresholds);
    expect(() => applyOverrides(profile, { thinkTimeSeconds: -1 })).toThrow(/thinkTimeSeconds/);
  });
});

describe('ramp math (k6 ramping-vus)', () => {
  const stages = loadProfile(profilePath).stages;

  it('follows the default load profile at known instants', () => {
    const at = (s: number) => vusAt(stages, s * 1000);
    expect(at(0)).toBe(0);
    expect(at(1.99)).toBe(0);
    expect(at(2)).toBe(1); // 0→5 over 10 s: one VU every 2 s
    expect(at(5)).toBe(2);
    expect(at(9.999)).toBe(4);
    expect(at(10)).toBe(5);
    expect(at(25)).toBe(7); // 5→10 over 30 s: 5 + 15/30·5 = 7.5 → 7
    expect(at(40)).toBe(10);
    expect(at(55)).toBe(15);
    expect(at(70)).toBe(20);
    expect(at(85)).toBe(20);
    expect(at(100)).toBe(20);
    expect(at(100.4)).toBe(20); // ramp-down: 20→0 over 10 s removes a VU every 0.5 s
    expect(at(100.5)).toBe(19);
    expect(at(105)).toBe(10);
    expect(at(109.9)).toBe(1);
    expect(at(110)).toBe(0);
    expect(at(500)).toBe(0);
    expect(maxVus(stages)).toBe(20);
  });

  it('is monotonic within a stage and never leaves the stage bounds', () => {
    const stages = parseStages('3s:7,4s:2,2s:2');
    let previous = 0;
    for (let t = 0; t < 3000; t += 10) {
      const v = vusAt(stages, t);
      expect(v).toBeGreaterThanOrEqual(previous);
      expect(v).toBeLessThanOrEqual(7);
      previous = v;
    }
    expect(previous).toBe(6);
    previous = 7;
    for (let t = 3000; t < 7000; t += 10) {
      const v = vusAt(stages, t);
      expect(v).toBeLessThanOrEqual(previous);
      expect(v).toBeGreaterThanOrEqual(2);
      previous = v;
    }
    expect(vusAt(stages, 8000)).toBe(2);
  });
});
