/** InvokerOptions for tests that drive an Invoker in-process with a dispatcher of their own. */
import type { Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import type { InvokerOptions } from '../../control-plane/src/invocation/invoker.js';
import { Metrics } from '../../control-plane/src/metrics.js';

/** One ready endpoint (never dialled: the dispatcher is the test's), generous TTLs, 1 ms back-off. */
export function invokerOptions(dispatcher: Dispatcher, overrides: Partial<InvokerOptions> = {}): InvokerOptions {
  return {
    dispatcher,
    metrics: new Metrics(),
    endpoints: () => [{ url: 'http://127.0.0.1:1', ready: true }],
    replicas: () => 1,
    admission: { enabled: true, maxEstimatedWaitMs: 2000, maxQueueWaitMs: 5000, retryAfterSeconds: 1 },
    retry: { baseDelayMs: 1, maxDelayMs: 1 },
    executionTtlMs: 60_000,
    executionMaxRecords: 100,
    idempotencyTtlMs: 60_000,
    ...overrides,
  };
}
