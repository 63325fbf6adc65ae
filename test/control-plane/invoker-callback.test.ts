/**
 * The runtime callback against the dispatcher's own answer, on an Invoker with a scripted
 * dispatcher: the order in which the two arrive must not change the outcome of an execution.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptRequest, AttemptResult, Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import type { Execution } from '../../control-plane/src/invocation/executions.js';
import { Invoker } from '../../control-plane/src/invocation/invoker.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import { invokerOptions } from './invoker-options.js';

interface Sent {
  request: AttemptRequest;
  done: (result: AttemptResult) => void;
}

let invoker: Invoker | undefined;

afterEach(async () => {
  await invoker?.shutdown(0);
  invoker = undefined;
});

function setup(maxRetries: number): { invoker: Invoker; sent: Sent[]; sentCount(n: number): Promise<void> } {
  const sent: Sent[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  /** Resolves once the invoker has sent `n` attempts (a retry goes out after its back-off timer). */
  const sentCount = (n: number) => (sent.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve })));
  const dispatcher = {
    send(_endpoint: string, request: AttemptRequest, done: (result: AttemptResult) => void) {
      sent.push({ request, done });
      for (const w of waiting.filter((w) => sent.length >= w.n)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
      return { abort: () => done({ kind: 'connection', message: 'aborted' }) };
    },
  } as unknown as Dispatcher;
  invoker = new Invoker(invokerOptions(dispatcher));
  invoker.upsertFunction(
    resolveSpec(
      { name: 'f', endpointUrl: 'http://127.0.0.1:1', maxRetries },
      { timeoutMs: 5000, concurrency: 1, queueSize: 10, maxRetries },
    ),
  );
  return { invoker, sent, sentCount };
}

const opts = { traceId: undefined, idempotencyKey: undefined, timeoutMs: undefined };

describe('runtime callback vs the HTTP answer', () => {
  it('a failure callback arriving first does not cancel the retries of an async execution', async () => {
    const { invoker, sent, sentCount } = setup(2);
    const execution = invoker.enqueue('f', '{"input":1}', opts);
    expect(sent).toHaveLength(1);
    expect(invoker.complete(execution.id, { attempt: 1, status: 'error', error: { error: 'FUNCTION_ERROR', message: 'boom' } })).toBe(
      'unchanged',
    );
    expect(execution.outcome).toBeUndefined();
    sent[0]!.done({ kind: 'failed', status: 500, body: '{"error":"FUNCTION_ERROR","message":"boom"}' });
    await sentCount(2);
    expect(sent).toHaveLength(2);
    sent[1]!.done({ kind: 'ok', status: 200, body: '{"n":2}', json: true, coldStart: false });
    expect(execution.status).toBe('success');
    expect(execution.attempts).toBe(2);
  });

  it("a failure callback arriving first does not turn the function's 400 into a 502 for a sync caller", async () => {
    const { invoker, sent } = setup(0);
    let ended: Execution | undefined;
    const execution = invoker.invoke('f', '{"input":1}', opts, (e) => (ended = e));
    invoker.complete(execution.id, { attempt: 1, status: 'error', error: { error: 'INVALID_INPUT', message: 'no text' } });
    expect(ended).toBeUndefined();
    sent[0]!.done({ kind: 'rejected', status: 400, body: '{"error":"INVALID_INPUT","message":"no text"}' });
    expect(ended?.outcome).toMatchObject({ status: 'error', httpStatus: 400, error: { error: 'INVALID_INPUT' } });
    // The same failure reported again afterwards changes nothing.
    expect(invoker.complete(execution.id, { attempt: 1, status: 'error' })).toBe('unchanged');
  });

  it('a success callback still ends a running execution; a callback for one never dispatched is refused', async () => {
    const { invoker, sent } = setup(0);
    const running = invoker.enqueue('f', '{"input":1}', opts);
    const queued = invoker.enqueue('f', '{"input":2}', opts);
    expect(sent).toHaveLength(1);
    expect(() => invoker.complete(queued.id, { status: 'success', output: 1 })).toThrow(/not been dispatched/);
    expect(queued.outcome).toBeUndefined();
    expect(invoker.complete(running.id, { attempt: 1, status: 'success', output: { via: 'callback' } })).toBe('completed');
    expect(running.outcome).toMatchObject({ status: 'success', outputJson: '{"via":"callback"}' });
  });
});
