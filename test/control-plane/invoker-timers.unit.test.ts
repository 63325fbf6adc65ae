/**
 * The Invoker's timers on a fake clock: retry back-off, the sync queue-wait limit and the
 * shutdown grace period. The dispatcher is scripted (each attempt waits for the test to answer
 * it), so every delay is checked to the millisecond without sleeping and without a runtime.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AttemptHandle, AttemptRequest, AttemptResult, Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import type { Execution } from '../../control-plane/src/invocation/executions.js';
import { Invoker } from '../../control-plane/src/invocation/invoker.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import { invokerOptions } from './invoker-options.js';

interface Sent {
  request: AttemptRequest;
  done: (result: AttemptResult) => void;
  aborted: string | undefined;
}

const opts = { traceId: undefined, idempotencyKey: undefined, timeoutMs: undefined };
const FAILED: AttemptResult = { kind: 'failed', status: 500, body: '{"error":"FUNCTION_ERROR","message":"boom"}' };

let invoker: Invoker | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  const shutdown = invoker?.shutdown(0);
  await vi.runOnlyPendingTimersAsync();
  await shutdown;
  invoker = undefined;
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function setup(o: { maxRetries?: number; concurrency?: number; maxQueueWaitMs?: number } = {}): { invoker: Invoker; sent: Sent[] } {
  const sent: Sent[] = [];
  const dispatcher = {
    send(_endpoint: string, request: AttemptRequest, done: (result: AttemptResult) => void): AttemptHandle {
      const entry: Sent = { request, done, aborted: undefined };
      sent.push(entry);
      return {
        abort: (reason: string) => {
          entry.aborted = reason;
          done({ kind: 'connection', message: reason });
        },
      } as AttemptHandle;
    },
  } as unknown as Dispatcher;
  const maxRetries = o.maxRetries ?? 0;
  invoker = new Invoker(
    invokerOptions(dispatcher, {
      admission: { enabled: false, maxEstimatedWaitMs: 2000, maxQueueWaitMs: o.maxQueueWaitMs ?? 60_000, retryAfterSeconds: 7 },
      retry: { baseDelayMs: 100, maxDelayMs: 150 },
    }),
  );
  invoker.upsertFunction(
    resolveSpec(
      { name: 'f', endpointUrl: 'http://127.0.0.1:1', maxRetries, concurrency: o.concurrency ?? 1 },
      { timeoutMs: 30_000, concurrency: 1, queueSize: 10, maxRetries },
    ),
  );
  return { invoker, sent };
}

describe('retry back-off', () => {
  it('resends a failed async attempt after base·2^(n-1) with full jitter, capped at the maximum, then gives up', async () => {
    // The top of the jitter range: the delay is the ceiling itself.
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const { invoker, sent } = setup({ maxRetries: 2 });
    const execution = invoker.enqueue('f', '{"input":1}', opts);
    expect(sent).toHaveLength(1);

    sent[0]!.done(FAILED);
    expect(execution.status).toBe('queued');
    await vi.advanceTimersByTimeAsync(99);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.request.attempt).toBe(2);

    // Second back-off: 200 ms by the formula, capped at maxDelayMs (150).
    sent[1]!.done(FAILED);
    await vi.advanceTimersByTimeAsync(149);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(3);

    // maxRetries (2) used up: the third failure is the outcome, and nothing is resent later.
    sent[2]!.done(FAILED);
    expect(execution.outcome).toMatchObject({ status: 'error', httpStatus: 502, error: { error: 'FUNCTION_ERROR' } });
    expect(execution.attempts).toBe(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toHaveLength(3);
  });

  it('waits half the ceiling at the bottom of the jitter range', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { invoker, sent } = setup({ maxRetries: 1 });
    invoker.enqueue('f', '{"input":1}', opts);
    sent[0]!.done(FAILED);
    await vi.advanceTimersByTimeAsync(49);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
  });

  it('a shutdown during the back-off ends the execution at once and nothing is resent afterwards', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const { invoker, sent } = setup({ maxRetries: 3 });
    const execution = invoker.enqueue('f', '{"input":1}', opts);
    sent[0]!.done(FAILED);
    await invoker.shutdown(5_000);
    expect(execution.outcome).toMatchObject({ status: 'error', httpStatus: 503, error: { error: 'SHUTTING_DOWN' } });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toHaveLength(1);
  });
});

describe('sync queue wait', () => {
  it('a sync call queued longer than maxQueueWaitMs ends as 429 QUEUE_FULL with Retry-After and the reason', async () => {
    const { invoker, sent } = setup({ maxQueueWaitMs: 1_000 });
    invoker.invoke('f', '{"input":1}', opts, () => undefined);
    let ended: Execution | undefined;
    invoker.invoke('f', '{"input":2}', opts, (e) => (ended = e));
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(ended).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(ended?.outcome).toMatchObject({
      status: 'error',
      httpStatus: 429,
      error: { error: 'QUEUE_FULL', details: { reason: 'timeout' } },
      headers: { 'retry-after': '7', 'x-queue-reject-reason': 'timeout' },
    });
    expect(sent).toHaveLength(1);
  });
});

describe('shutdown', () => {
  it('ends queued work at once and running work at the end of the grace period, cutting its request', async () => {
    const { invoker, sent } = setup();
    const running = invoker.enqueue('f', '{"input":1}', opts);
    const queued = invoker.enqueue('f', '{"input":2}', opts);
    expect(sent).toHaveLength(1);

    let done = false;
    const shutdown = invoker.shutdown(300).then(() => (done = true));
    expect(queued.outcome).toMatchObject({ status: 'error', httpStatus: 503, error: { error: 'SHUTTING_DOWN' } });
    expect(running.outcome).toBeUndefined();

    await vi.advanceTimersByTimeAsync(299);
    expect(running.outcome).toBeUndefined();
    expect(sent[0]!.aborted).toBeUndefined();
    expect(done).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    await shutdown;
    expect(running.outcome).toMatchObject({ status: 'error', httpStatus: 503, error: { error: 'SHUTTING_DOWN' } });
    expect(sent[0]!.aborted).toBe('control plane shutting down');
    expect(sent).toHaveLength(1);
  });

  it('returns as soon as the running attempts answer, without waiting out the grace period', async () => {
    const { invoker, sent } = setup();
    const running = invoker.enqueue('f', '{"input":1}', opts);
    let done = false;
    const shutdown = invoker.shutdown(60_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    sent[0]!.done({ kind: 'ok', status: 200, body: '{"n":1}', json: true, coldStart: false });
    await shutdown;
    expect(done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(running.outcome).toMatchObject({ status: 'success', outputJson: '{"n":1}' });
    expect(sent[0]!.aborted).toBeUndefined();
  });

  it('refuses new work once shutting down', async () => {
    const { invoker } = setup();
    void invoker.shutdown(0);
    expect(() => invoker.enqueue('f', '{"input":1}', opts)).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
  });
});
