import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicaApis } from '../../src/cli/loadtest.js';
import { runLoad } from '../../src/loadtest/engine.js';
import { parseProfile, type LoadProfile } from '../../src/loadtest/profile.js';
import { Summary } from '../../src/loadtest/summary.js';
import { Value } from '@sinclair/typebox/value';
import baseProfile from '../../k6/profile.json' with { type: 'json' };

/** A stand-in control plane on 127.0.0.1 that counts what it answered. */
interface Counts {
  invoke: Record<string, number>;
  failedAnswers: Record<string, number>;
  polls: number;
  enqueued: number;
  waitMs: number[];
}
interface StandInExecution {
  done: boolean;
  waiters: (() => void)[];
  polls: number;
}
/** How long a stand-in async execution takes from enqueue to its end. */
const COMPLETES_AFTER_MS = 60;
/** The stand-in holds a long-poll at most this long (like a server with a lower maximum). */
let maxHoldMs = Number.POSITIVE_INFINITY;
/**
 * When set, an execution ends when its Nth poll arrives instead of after COMPLETES_AFTER_MS: the
 * number of polls then depends only on the client re-polling, not on how fast the machine is.
 */
let completesOnPoll: number | undefined;

let server: Server;
let baseUrl: string;
const counts: Counts = { invoke: {}, failedAnswers: {}, polls: 0, enqueued: 0, waitMs: [] };
const executions = new Map<string, StandInExecution>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      // Like a control plane started with NANOFAAS_API_TOKEN=secret.
      if (req.method === 'POST' && url === '/v1/functions/guarded:invoke') {
        if (req.headers.authorization !== 'Bearer secret')
          return send(401, { error: 'UNAUTHORIZED', message: 'missing or wrong bearer token' });
        return send(200, { executionId: 'g', status: 'success', output: { wordCount: 3 } });
      }
      // Never answers: only the engine's graceful stop can end a request to it.
      if (req.method === 'POST' && url === '/v1/functions/stuck:invoke') {
        counts.invoke.stuck = (counts.invoke.stuck ?? 0) + 1;
        return;
      }
      const invoke = /^\/v1\/functions\/([^/:]+):invoke$/.exec(url);
      if (req.method === 'POST' && invoke) {
        const fn = invoke[1] ?? '';
        const n = (counts.invoke[fn] = (counts.invoke[fn] ?? 0) + 1);
        const input = (JSON.parse(body) as { input: { text?: string } }).input;
        if (fn === 'flaky' && n % 4 === 0) {
          counts.failedAnswers[fn] = (counts.failedAnswers[fn] ?? 0) + 1;
          return send(502, { error: 'FUNCTION_ERROR', message: 'boom' });
        }
        return send(200, { executionId: `e${n}`, status: 'success', output: { wordCount: input.text?.split(' ').length ?? 0 } });
      }
      if (req.method === 'POST' && url === '/v1/functions/queued:enqueue') {
        const id = `q${++counts.enqueued}`;
        const execution: StandInExecution = { done: false, waiters: [], polls: 0 };
        executions.set(id, execution);
        // The execution ends on its own after a while; long-polls waiting for it answer then.
        if (completesOnPoll === undefined) {
          setTimeout(() => {
            execution.done = true;
            for (const wake of execution.waiters.splice(0)) wake();
          }, COMPLETES_AFTER_MS);
        }
        return send(202, { executionId: id, status: 'queued' });
      }
      const poll = /^\/v1\/executions\/(q\d+)(?:\?waitMs=(\d+))?$/.exec(url);
      if (req.method === 'GET' && poll) {
        counts.polls += 1;
        const execution = executions.get(poll[1] ?? '');
        const waitMs = Number(poll[2] ?? 0);
        counts.waitMs.push(waitMs);
        if (execution && completesOnPoll !== undefined && ++execution.polls >= completesOnPoll) execution.done = true;
        const answer = (): void =>
          execution?.done
            ? send(200, { executionId: poll[1], status: 'success', output: { wordCount: 7 } })
            : send(200, { executionId: poll[1], status: 'running' });
        if (!execution || execution.done || waitMs === 0) return answer();
        // Honour waitMs like the control plane: answer on completion or when it elapses.
        const timer = setTimeout(
          () => {
            execution.waiters.splice(execution.waiters.indexOf(wake), 1);
            answer();
          },
          Math.min(waitMs, maxHoldMs),
        );
        const wake = (): void => {
          clearTimeout(timer);
          answer();
        };
        execution.waiters.push(wake);
        return;
      }
      send(404, { error: 'NOT_FOUND', message: url });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const shortProfile: LoadProfile = parseProfile({
  ...baseProfile,
  stages: [
    { duration: '1s', target: 3 },
    { duration: '1s', target: 3 },
    { duration: '500ms', target: 0 },
  ],
  thinkTimeSeconds: 0.02,
  requestTimeoutSeconds: 5,
});

describe('built-in engine against a local HTTP server', () => {
  it('counts every request and the exact failure rate (sync mode)', async () => {
    const progress: number[] = [];
    const lines: string[] = [];
    const result = await runLoad(
      { baseUrl, function: 'flaky', workload: 'word-stats', runtime: 'python' },
      { profile: shortProfile, mode: 'sync', progressIntervalMs: 500, onProgress: (p) => progress.push(p.vus), log: (l) => lines.push(l) },
    );
    const m = result.summary.metrics;
    expect(Value.Check(Summary, result.summary)).toBe(true);
    // Every answered request was recorded, and only those.
    expect(m.http_reqs.count).toBe(counts.invoke.flaky);
    expect(m.http_reqs.count).toBeGreaterThan(30);
    expect(m.http_req_failed.passes).toBe(counts.failedAnswers.flaky);
    expect(m.http_req_failed.value).toBeCloseTo((counts.failedAnswers.flaky ?? 0) / (counts.invoke.flaky ?? 1), 10);
    expect(m.http_req_failed.value).toBeGreaterThan(0.2);
    expect(m.http_req_failed.value).toBeLessThan(0.3);
    expect(m.iterations.count).toBe(m.http_reqs.count);
    expect(result.summary.root_group?.checks?.['status is 200']).toEqual({
      name: 'status is 200',
      passes: m.http_req_failed.fails,
      fails: m.http_req_failed.passes,
    });
    expect(result.summary.root_group?.checks?.['output.wordCount > 0']?.passes).toBe(m.http_req_failed.fails);
    expect(m.vus_max?.value).toBe(3);
    expect(Math.max(...progress)).toBeLessThanOrEqual(3);
    const seconds = (result.end.getTime() - result.start.getTime()) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(2.4);
    // The 2.5 s ramp, then the last iterations end at once (not the 30 s graceful stop).
    expect(seconds).toBeLessThan(12);
    expect(m.http_reqs.rate).toBeCloseTo(m.http_reqs.count / seconds, 0);
    expect(m.http_req_duration.min).toBeLessThanOrEqual(m.http_req_duration.med);
    expect(m.http_req_duration.med).toBeLessThanOrEqual(m.http_req_duration['p(95)']);
    expect(m.http_req_duration['p(95)']).toBeLessThanOrEqual(m.http_req_duration['p(99)'] ?? 0);
    expect(lines.some((l) => l.includes('HTTP 502') && l.includes('FUNCTION_ERROR'))).toBe(true);
    expect(result.summary.nanofaas).toMatchObject({ function: 'flaky', runtime: 'python', engine: 'builtin', mode: 'sync' });
  });

  it('spreads the load over every control-plane replica when given several (up --replicas N)', async () => {
    // A second stand-in replica, answering invokes like the first.
    let second = 0;
    const replica = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        second++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ executionId: `r${second}`, status: 'success', output: { wordCount: 2 } }));
      });
    });
    await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', resolve));
    const replicaUrl = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
    const lines: string[] = [];
    try {
      const result = await runLoad(
        { baseUrl, replicaUrls: [baseUrl, replicaUrl], function: 'spread', workload: 'word-stats', runtime: 'node' },
        { profile: shortProfile, mode: 'sync', log: (l) => lines.push(l) },
      );
      const total = result.summary.metrics.http_reqs.count;
      const first = counts.invoke.spread ?? 0;
      expect(first + second).toBe(total);
      expect(result.summary.metrics.http_req_failed.passes).toBe(0);
      expect(total).toBeGreaterThan(30);
      // Taken in turn: each replica gets about half.
      expect(first / total).toBeGreaterThan(0.3);
      expect(second / total).toBeGreaterThan(0.3);
      expect(lines[0]).toContain(`${baseUrl} + ${replicaUrl}`);
    } finally {
      await new Promise<void>((resolve) => replica.close(() => resolve()));
    }
  });

  it('spreads only over the replicas of the API the CLI talks to', () => {
    const replicas = [{ apiUrl: 'http://127.0.0.1:8080' }, { apiUrl: 'http://127.0.0.1:8090' }];
    expect(replicaApis(replicas, 'http://127.0.0.1:8080/')).toEqual(['http://127.0.0.1:8080', 'http://127.0.0.1:8090']);
    // --api-url elsewhere, or a single replica: that one API only.
    expect(replicaApis(replicas, 'http://10.0.0.5:8080')).toBeUndefined();
    expect(replicaApis(replicas.slice(0, 1), 'http://127.0.0.1:8080')).toBeUndefined();
    expect(replicaApis(undefined, 'http://127.0.0.1:8080')).toBeUndefined();
  });

  it('measures enqueue-to-completion in async mode', async () => {
    const result = await runLoad(
      { baseUrl, function: 'queued', workload: 'word-stats', runtime: 'node' },
      { profile: shortProfile, mode: 'async' },
    );
    const m = result.summary.metrics;
    expect(m.http_reqs.count).toBe(counts.enqueued);
    expect(m.http_req_failed.passes).toBe(0);
    // One long-poll per execution, answered when it ended: no sleep-and-poll round trips.
    expect(counts.polls).toBe(counts.enqueued);
    // Each long-poll asked for the time left of the 5 s request deadline.
    for (const waitMs of counts.waitMs) {
      expect(waitMs).toBeGreaterThan(4000);
      expect(waitMs).toBeLessThanOrEqual(5000);
    }
    // End to end covers the execution (timers may fire a hair early against performance.now()),
    // and not much more: the answer came on completion, not after a back-off pause. The margin
    // is wide so a loaded machine cannot fail it; a client sleeping 1 s between polls still would.
    expect(m.http_req_duration.min).toBeGreaterThanOrEqual(COMPLETES_AFTER_MS - 2);
    expect(m.http_req_duration.med).toBeLessThan(COMPLETES_AFTER_MS + 1000);
    expect(result.summary.root_group?.checks?.['output.wordCount > 0']?.fails).toBe(0);
  });

  it('long-polls again at once when a poll ends before the execution does', async () => {
    const before = { polls: counts.polls, enqueued: counts.enqueued };
    counts.waitMs.length = 0;
    maxHoldMs = 25;
    completesOnPoll = 3;
    try {
      const result = await runLoad(
        { baseUrl, function: 'queued', workload: 'word-stats', runtime: 'node' },
        { profile: shortProfile, mode: 'async' },
      );
      const m = result.summary.metrics;
      const enqueued = counts.enqueued - before.enqueued;
      const polls = counts.polls - before.polls;
      expect(m.http_reqs.count).toBe(enqueued);
      expect(m.http_req_failed.passes).toBe(0);
      // Two long-polls cut at 25 ms, then the third finds the execution ended: the client polled
      // again after each cut, every time for the time left.
      expect(polls).toBe(3 * enqueued);
      expect(Math.min(...counts.waitMs)).toBeGreaterThan(4000);
      expect(m.http_req_duration.min).toBeGreaterThanOrEqual(2 * maxHoldMs - 2);
      expect(result.summary.root_group?.checks?.['output.wordCount > 0']?.fails).toBe(0);
    } finally {
      maxHoldMs = Number.POSITIVE_INFINITY;
      completesOnPoll = undefined;
    }
  });

  it('cancels requests still in flight gracefulStopSeconds after the ramp ends, and drops them', async () => {
    const result = await runLoad(
      { baseUrl, function: 'stuck', workload: 'word-stats', runtime: 'node' },
      {
        profile: parseProfile({
          ...shortProfile,
          stages: [{ duration: '200ms', target: 2 }],
          gracefulStopSeconds: 0.3,
          requestTimeoutSeconds: 20,
        }),
        mode: 'sync',
      },
    );
    const seconds = (result.end.getTime() - result.start.getTime()) / 1000;
    // 0.2 s of ramp + 0.3 s of graceful stop, far short of the 20 s request deadline.
    expect(seconds).toBeGreaterThanOrEqual(0.45);
    expect(seconds).toBeLessThan(10);
    expect(counts.invoke.stuck).toBeGreaterThanOrEqual(1);
    expect(result.summary.metrics.http_reqs.count).toBe(0);
  });

  it('sends the API token as a bearer token', async () => {
    const profile = parseProfile({
      ...shortProfile,
      stages: [
        { duration: '50ms', target: 1 },
        { duration: '300ms', target: 1 },
      ],
    });
    const withToken = await runLoad(
      { baseUrl, function: 'guarded', workload: 'word-stats', runtime: 'node', token: 'secret' },
      { profile, mode: 'sync' },
    );
    expect(withToken.summary.metrics.http_reqs.count).toBeGreaterThan(0);
    expect(withToken.summary.metrics.http_req_failed.value).toBe(0);
    const without = await runLoad({ baseUrl, function: 'guarded', workload: 'word-stats', runtime: 'node' }, { profile, mode: 'sync' });
    expect(without.summary.metrics.http_req_failed.value).toBe(1);
  });

  it('counts connection failures as failed requests', async () => {
    const result = await runLoad(
      { baseUrl: 'http://127.0.0.1:1', function: 'nowhere', workload: 'word-stats', runtime: 'python' },
      {
        profile: parseProfile({
          ...shortProfile,
          stages: [
            { duration: '100ms', target: 1 },
            { duration: '300ms', target: 1 },
          ],
        }),
        mode: 'sync',
      },
    );
    expect(result.summary.metrics.http_reqs.count).toBeGreaterThan(0);
    expect(result.summary.metrics.http_req_failed.value).toBe(1);
  });
});
