import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dueAtMs, dueBy, parseRate, scheduleOf } from '../../src/loadtest/arrival.js';
import { runLoad } from '../../src/loadtest/engine.js';
import { applyOverrides, parseProfile, ProfileError, type LoadProfile } from '../../src/loadtest/profile.js';
import { Summary } from '../../src/loadtest/summary.js';
import baseProfile from '../../k6/profile.json' with { type: 'json' };

/**
 * A local server (127.0.0.1) that answers at once, except that when its `stallAt`-th request
 * arrives it stalls for `stallMs`: `hold` keeps every request answered only after the stall
 * (a stalled server); `block` busy-waits the whole process (the load generator's event loop
 * stops too, as under a GC pause or an overloaded client).
 */
let server: Server;
let baseUrl: string;
let seen = 0;
let stall: { at: number; ms: number; kind: 'hold' | 'block' } | undefined;
let stalledUntil = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen += 1;
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ executionId: `e${seen}`, status: 'success', output: { wordCount: 3 } }));
      };
      if (stall && seen === stall.at) {
        if (stall.kind === 'block') {
          const until = performance.now() + stall.ms;
          while (performance.now() < until) {
            // Busy-wait: nothing else in this process runs, the engine's timers included.
          }
        } else {
          stalledUntil = performance.now() + stall.ms;
        }
      }
      const wait = stalledUntil - performance.now();
      if (wait > 0) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = 0;
  stall = undefined;
  stalledUntil = 0;
});

const target = { baseUrl: '', function: 'f', workload: 'word-stats', runtime: 'node' };
const base = parseProfile({ ...baseProfile, requestTimeoutSeconds: 10 });
const open = (rate: number, duration: string, preAllocatedVUs: number, maxVUs: number): LoadProfile =>
  parseProfile({ ...base, arrival: { rate, duration, timeUnit: '1s', preAllocatedVUs, maxVUs } });
const closed = (seconds: number, vus: number): LoadProfile =>
  parseProfile({
    ...base,
    thinkTimeSeconds: 0,
    stages: [
      { duration: '0s', target: vus },
      { duration: `${seconds}s`, target: vus },
    ],
  });

describe('open model (arrival rate) against a stalling local server', () => {
  it('a 600 ms server stall shows in the open-model p99, while a closed model with one VU hides it', async () => {
    stall = { at: 50, ms: 600, kind: 'hold' };
    const openRun = await runLoad({ ...target, baseUrl }, { profile: open(100, '3s', 10, 1000), mode: 'sync' });
    const o = openRun.summary.metrics;
    expect(Value.Check(Summary, openRun.summary)).toBe(true);
    // 300 iterations were due and every one was sent: none dropped with 1000 VUs to spare.
    expect(o.iterations.count, JSON.stringify(o)).toBe(300);
    expect(o.dropped_iterations).toBeUndefined();
    // About 60 iterations arrived during the stall and waited up to 600 ms: well over 1% of 300.
    expect(o.http_req_duration['p(99)']).toBeGreaterThan(400);
    expect(o.http_req_duration['p(95)']).toBeGreaterThan(100);
    // The pool grew to hold the iterations the stall kept busy.
    expect(o.vus_max?.value).toBeGreaterThan(10);

    seen = 0;
    stalledUntil = 0;
    const closedRun = await runLoad({ ...target, baseUrl }, { profile: closed(3, 1), mode: 'sync' });
    const c = closedRun.summary.metrics;
    // The closed model saw the stall (its slowest request) but sent nothing while it waited:
    // one slow sample among hundreds, so its percentiles look healthy.
    expect(c.http_req_duration.max).toBeGreaterThan(550);
    expect(c.http_reqs.count).toBeGreaterThan(300);
    expect(c.http_req_duration['p(99)']).toBeLessThan(100);
    expect(c.http_req_duration['p(99)']).toBeLessThan((o.http_req_duration['p(99)'] ?? 0) / 4);
  });

  it('counts the iterations dropped while every VU of a too-small pool waits on the stall', async () => {
    stall = { at: 20, ms: 500, kind: 'hold' };
    const progress: number[] = [];
    const result = await runLoad(
      { ...target, baseUrl },
      { profile: open(100, '2s', 2, 2), mode: 'sync', progressIntervalMs: 200, onProgress: (p) => progress.push(p.dropped ?? -1) },
    );
    const m = result.summary.metrics;
    expect(Value.Check(Summary, result.summary)).toBe(true);
    const dropped = m.dropped_iterations?.count ?? 0;
    // Both VUs sit in the 500 ms stall: about 50 iterations fall due meanwhile and find none free.
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(80);
    // Every scheduled iteration either ran or was dropped, none twice.
    expect(m.iterations.count + dropped).toBe(200);
    expect(result.stats.dropped).toBe(dropped);
    expect(m.vus_max?.value).toBe(2);
    expect(progress.at(-1)).toBe(dropped);
  });

  it('time the client itself lost (a blocked event loop) counts from each iteration’s scheduled start', async () => {
    // The busy-wait stops the load generator too: iterations due meanwhile start 0–400 ms late.
    stall = { at: 30, ms: 400, kind: 'block' };
    const result = await runLoad({ ...target, baseUrl }, { profile: open(100, '2s', 50, 1000), mode: 'sync' });
    const m = result.summary.metrics;
    expect(m.iterations.count).toBe(200);
    // Measured from the actual send, these late iterations would look as fast as the rest.
    expect(m.http_req_duration.max).toBeGreaterThan(350);
    expect(m.http_req_duration['p(99)']).toBeGreaterThan(250);
  });
});

describe('arrival schedule (k6 constant- and ramping-arrival-rate)', () => {
  it('a constant rate schedules rate × duration iterations, evenly, from t = 0', () => {
    const plan = scheduleOf({ rate: 10, duration: '2s', timeUnit: '1s', preAllocatedVUs: 1, maxVUs: 1 });
    expect(plan?.total).toBe(20);
    if (!plan) return;
    expect([0, 1, 2, 19].map((i) => dueAtMs(plan, i))).toEqual([0, 100, 200, 1900]);
    expect(dueAtMs(plan, 20)).toBe(Number.POSITIVE_INFINITY);
    expect([0, 99, 100, 1999, 5000].map((t) => dueBy(plan, t))).toEqual([1, 1, 2, 20, 20]);
    // timeUnit scales the rate: 60 per minute is 1 per second.
    expect(scheduleOf({ rate: 60, duration: '3s', timeUnit: '1m', preAllocatedVUs: 1, maxVUs: 1 })?.total).toBe(3);
  });

  it('a ramp integrates the linear rate, and due times invert dueBy at every iteration', () => {
    const plan = scheduleOf({
      startRate: 0,
      stages: [
        { duration: '10s', target: 10 },
        { duration: '5s', target: 10 },
        { duration: '2s', target: 0 },
      ],
      timeUnit: '1s',
      preAllocatedVUs: 1,
      maxVUs: 1,
    });
    if (!plan) throw new Error('no schedule');
    // 0→10/s over 10 s is 50, then 50 at 10/s, then 10→0 over 2 s is 10.
    expect(plan.total).toBe(110);
    expect(plan.totalMs).toBe(17_000);
    let previous = -1;
    for (let i = 0; i < plan.total; i++) {
      const at = dueAtMs(plan, i);
      expect(at).toBeGreaterThan(previous);
      expect(dueBy(plan, at)).toBeGreaterThanOrEqual(i + 1);
      expect(dueBy(plan, at - 0.01)).toBeLessThanOrEqual(i);
      previous = at;
    }
    // Rate t/s at t seconds: iteration i is due when t²/2 = i.
    expect(dueAtMs(plan, 8)).toBeCloseTo(4000, 6);
  });

  it('parses --rate, and --rate/--rate-stages/--duration into the profile, with one-line errors', () => {
    expect([parseRate('100'), parseRate('100/s'), parseRate('6000/m'), parseRate('2.5/s')]).toEqual([100, 100, 100, 2.5]);
    expect(() => parseRate('fast')).toThrow(/invalid rate 'fast'.*100\/s/);
    expect(() => parseRate('0/s')).toThrow(/invalid rate/);
    const constant = applyOverrides(base, { rate: 50, duration: '20s' });
    expect(constant.arrival).toEqual({ timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 200, rate: 50, duration: '20s' });
    const ramp = applyOverrides(base, { rateStages: '10s:50,30s:200', maxVus: 400 });
    expect(ramp.arrival).toMatchObject({
      startRate: 0,
      maxVUs: 400,
      stages: [
        { duration: '10s', target: 50 },
        { duration: '30s', target: 200 },
      ],
    });
    expect(() => applyOverrides(base, { rate: 50 })).toThrow(ProfileError);
    expect(() => applyOverrides(base, { rate: 50 })).toThrow('--rate needs --duration (e.g. --rate 100/s --duration 30s)');
    expect(() => applyOverrides(base, { rateStages: '10s:fast' })).toThrow(/invalid rate stage "10s:fast"/);
    expect(() => applyOverrides(base, { rate: 5, duration: '5s', preAllocatedVus: 20, maxVus: 10 })).toThrow(
      /maxVUs \(10\) is below preAllocatedVUs \(20\)/,
    );
    expect(() => parseProfile({ ...base, arrival: { rate: 5, timeUnit: '1s', preAllocatedVUs: 1, maxVUs: 1 } })).toThrow(
      /at \/arrival: a constant rate needs a duration/,
    );
  });
});
