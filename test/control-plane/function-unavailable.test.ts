/**
 * A function whose workload cannot start (real process backend, real node runtime): its status
 * says FAILED with a one-line reason, the log path and the failed attempt's log tail; sync and
 * async calls are refused at once with 503 FUNCTION_UNAVAILABLE; sync calls already waiting when
 * it fails get that answer too, and accepted async ones stay queued.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, removeDir, startControlPlane, untilMetric, type RunningControlPlane } from './helpers.js';

let cp: RunningControlPlane;
let gateDir: string;

beforeAll(async () => {
  cp = await startControlPlane({ NANOFAAS_LOG_LEVEL: 'warn' });
  // Readable by the unprivileged user functions run as when the tests run as root.
  gateDir = mkdtempSync(join(tmpdir(), 'nf-gate-'));
  chmodSync(gateDir, 0o755);
});

afterAll(async () => {
  await cp.stop();
  removeDir(cp.stateDir);
  removeDir(gateDir);
});

const MISSING = { name: 'broken', runtime: 'node', handler: 'functions/no-such-dir/handler.js' };

describe('a function that cannot start', () => {
  it('is FAILED with a one-line reason, the log path and the log tail', async () => {
    const registered = await call(cp.apiUrl, 'POST', '/v1/functions', MISSING);
    expect(registered.status, registered.text).toBe(201);

    // The long-poll answers when the function leaves PENDING.
    const view = await call(cp.apiUrl, 'GET', '/v1/functions/broken?waitMs=20000');
    expect(view.status, view.text).toBe(200);
    const status = view.body.status;
    expect(status.state).toBe('FAILED');
    expect(status.message).toMatch(
      /^replica 0 exited \(code 1\) before \/health answered 200: cannot load HANDLER=functions\/no-such-dir\/handler\.js/,
    );
    expect(status.message).not.toContain('\n');
    expect(status.logPath).toBe(join(cp.stateDir, 'logs', 'fn-broken.log'));
    expect(Array.isArray(status.logTail)).toBe(true);
    expect(status.logTail.join('\n')).toContain('Cannot find module');
    expect(status.logTail.join('\n')).not.toMatch(/^--- /m);
  });

  it('answers sync and async calls at once with 503 FUNCTION_UNAVAILABLE and the reason', async () => {
    // The node fast path (plain JSON POST) and the Fastify route (a query string) answer alike.
    for (const path of ['/v1/functions/broken:invoke', '/v1/functions/broken:invoke?via=router', '/v1/functions/broken:enqueue']) {
      const answer = await call(cp.apiUrl, 'POST', path, { input: 1 });
      expect(answer.status, `${path}: ${answer.text}`).toBe(503);
      expect(answer.body.error).toBe('FUNCTION_UNAVAILABLE');
      expect(answer.body.message).toMatch(/^function "broken" cannot start: replica 0 exited \(code 1\)/);
      expect(answer.body.details.state).toBe('FAILED');
      expect(answer.body.details.logPath).toBe(join(cp.stateDir, 'logs', 'fn-broken.log'));
      expect(answer.body.details.logTail.join('\n')).toContain('Cannot find module');
    }
  });

  it('ends sync calls waiting for it with 503 when it fails; accepted async calls stay queued', async () => {
    // A handler that blocks its runtime's start-up until the test opens the gate, then throws.
    const gate = join(gateDir, 'gate');
    execFileSync('mkfifo', ['-m', '666', gate]);
    const handler = join(gateDir, 'handler.mjs');
    writeFileSync(
      handler,
      `import { readFileSync } from 'node:fs';\nreadFileSync(process.env.GATE);\nthrow new Error('gate opened: start-up failed');\n`,
    );
    chmodSync(handler, 0o644);
    const registered = await call(cp.apiUrl, 'POST', '/v1/functions', { name: 'gated', runtime: 'node', handler, env: { GATE: gate } });
    expect(registered.status, registered.text).toBe(201);
    expect((await call(cp.apiUrl, 'GET', '/v1/functions/gated')).body.status.state).toBe('PENDING');

    const queued = await call(cp.apiUrl, 'POST', '/v1/functions/gated:enqueue', { input: 'later' });
    expect(queued.status, queued.text).toBe(202);
    const waiting = call(cp.apiUrl, 'POST', '/v1/functions/gated:invoke', { input: 'now' }, { 'x-timeout-ms': '60000' });
    await untilMetric(cp.managementUrl, 'function_queue_depth', 'gated', 2);

    await writeFile(gate, 'go');
    const answer = await waiting;
    expect(answer.status, answer.text).toBe(503);
    expect(answer.body.error).toBe('FUNCTION_UNAVAILABLE');
    expect(answer.body.message).toContain('gate opened: start-up failed');

    const execution = await call(cp.apiUrl, 'GET', `/v1/executions/${queued.body.executionId}`);
    expect(execution.body.status).toBe('queued');
    // Deleting the function is what ends it.
    expect((await call(cp.apiUrl, 'DELETE', '/v1/functions/gated')).status).toBe(204);
    const ended = await call(cp.apiUrl, 'GET', `/v1/executions/${queued.body.executionId}?waitMs=10000`);
    expect(ended.body.error.error).toBe('FUNCTION_DELETED');
  });
});
