/** The one builder of a sync invocation's answer, shared by the Fastify route and the fast path. */
import { describe, expect, it } from 'vitest';
import { syncAnswer } from '../../control-plane/src/api/sync-answer.js';
import type { Execution, Outcome } from '../../control-plane/src/invocation/executions.js';

const ended = (outcome: Outcome) => ({ id: 'exec-1', outcome }) as Execution;

describe('syncAnswer', () => {
  it('a success is 200 with the runtime JSON as output, byte for byte, and the execution id header', () => {
    const answer = syncAnswer(ended({ status: 'success', httpStatus: 200, outputJson: '{"b":1, "a":[2]}' }));
    expect(answer).toEqual({
      status: 200,
      body: '{"executionId":"exec-1","status":"success","output":{"b":1, "a":[2]}}',
      headers: { 'x-execution-id': 'exec-1' },
    });
    expect(JSON.parse(answer.body)).toEqual({ executionId: 'exec-1', status: 'success', output: { b: 1, a: [2] } });
  });

  it("a failure carries the outcome's status, error body and headers", () => {
    const answer = syncAnswer(
      ended({
        status: 'error',
        httpStatus: 429,
        error: { error: 'QUEUE_FULL', message: 'waited too long', details: { reason: 'timeout' } },
        headers: { 'retry-after': '1', 'x-queue-reject-reason': 'timeout' },
      }),
    );
    expect(answer.status).toBe(429);
    expect(answer.headers).toEqual({ 'x-execution-id': 'exec-1', 'retry-after': '1', 'x-queue-reject-reason': 'timeout' });
    expect(JSON.parse(answer.body)).toEqual({
      executionId: 'exec-1',
      status: 'error',
      error: 'QUEUE_FULL',
      message: 'waited too long',
      details: { reason: 'timeout' },
    });
  });

  it('a failure without error details still answers with a code', () => {
    const answer = syncAnswer(ended({ status: 'timeout', httpStatus: 504 }));
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toEqual({
      executionId: 'exec-1',
      status: 'timeout',
      error: 'FUNCTION_ERROR',
      message: 'the invocation failed',
    });
  });
});
