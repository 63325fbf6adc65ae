/**
 * How often a sync call reads the clock, and where each reading lands. A clock read costs ~43 ns
 * on these machines and a call once made nine of them (BENCHMARKS.md, sixth pass); it now makes
 * four: the wall clock at acceptance and at the end, the duration clock at acceptance and when the
 * runtime answers. The injected clock ticks 1 ms per read, so a reading reused in the wrong place
 * shows up as a wrong timestamp or duration.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptRequest, AttemptResult, Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import { Invoker } from '../../control-plane/src/invocation/invoker.js';
import { Metrics } from '../../control-plane/src/metrics.js';
import { resolveSpec } from '../../control-plane/src/registry/resolve-spec.js';
import { invokerOptions } from './invoker-options.js';

const opts = { traceId: undefined, idempotencyKey: undefined, timeoutMs: undefined };

function setup() {
  let t = 1_000;
  let reads = 0;
  const now = () => {
    reads++;
    return t++;
  };
  const sent: { request: AttemptRequest; done: (result: AttemptResult) => void }[] = [];
  const dispatcher = {
    send(_endpoint: string, request: AttemptRequest, done: (result: AttemptResult) => void) {
      sent.push({ request, done });
      return { abort: () => undefined };
    },
    release: () => undefined,
  } as unknown as Dispatcher;
  const metrics = new Metrics();
  const invoker = new Invoker(invokerOptions(dispatcher, { metrics, now }));
  invoker.upsertFunction(
    resolveSpec({ name: 'f', endpointUrl: 'http://127.0.0.1:1' }, { timeoutMs: 30_000, concurrency: 4, queueSize: 10, maxRetries: 0 }),
  );
  return { invoker, metrics, sent, reads: () => reads };
}

/** The `_sum` of a per-function histogram in the Prometheus text. */
async function histogramSum(metrics: Metrics, name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}_sum{function="f"}`));
  if (!line) throw new Error(`no ${name}_sum in:\n${text}`);
  return Number(line.split(' ').at(-1));
}

describe('clock readings of a sync call', () => {
  it('reads the clock four times and puts each reading where it belongs', async () => {
    const { invoker, metrics, sent, reads } = setup();
    const ended: number[] = [];
    const execution = invoker.invoke('f', '{"input":1}', opts, (e) => ended.push(e.finishedAt));
    // Accepted at wall 1000 and duration mark 1001; started at once with those same readings.
    expect(reads()).toBe(2);
    expect(execution.createdAt).toBe(1_000);
    expect(execution.startedAt).toBe(1_000);
    expect(sent[0]!.request.timeoutMs).toBe(30_000);

    sent[0]!.done({ kind: 'ok', status: 200, body: '{"ok":true}', json: true, coldStart: false });
    // The answer: duration mark 1002 (attempt latency and end-to-end both from it), wall 1003 at the end.
    expect(reads()).toBe(4);
    expect(ended).toEqual([1_003]);
    expect(execution.status).toBe('success');
    expect(await histogramSum(metrics, 'function_queue_wait_seconds')).toBe(0);
    expect(await histogramSum(metrics, 'function_latency_seconds')).toBeCloseTo(0.001, 9);
    expect(await histogramSum(metrics, 'function_e2e_latency_seconds')).toBeCloseTo(0.001, 9);
    await invoker.shutdown(0);
  });

  it('a queued call takes fresh readings when it starts', async () => {
    const { invoker, metrics, sent } = setup();
    invoker.upsertFunction(
      resolveSpec(
        { name: 'f', endpointUrl: 'http://127.0.0.1:1', concurrency: 1 },
        { timeoutMs: 30_000, concurrency: 1, queueSize: 10, maxRetries: 0 },
      ),
    );
    invoker.invoke('f', '{"input":1}', opts, () => undefined); // wall 1000, mark 1001: started
    // Wall 1002, mark 1003; queued, and its queue timer reads the wall clock (1004).
    const second = invoker.invoke('f', '{"input":2}', opts, () => undefined);
    expect(sent).toHaveLength(1);
    sent[0]!.done({ kind: 'ok', status: 200, body: '1', json: true, coldStart: false }); // mark 1005, wall 1006
    // The second starts as the slot frees, on fresh readings: wall 1007, mark 1008, so it waited 1008 − 1003 = 5 ms.
    expect(sent).toHaveLength(2);
    expect(second.startedAt).toBe(1_007);
    expect(sent[1]!.request.timeoutMs).toBe(30_000 - (1_007 - 1_002));
    expect(await histogramSum(metrics, 'function_queue_wait_seconds')).toBeCloseTo(0.005, 9);
    await invoker.shutdown(0);
  });
});
