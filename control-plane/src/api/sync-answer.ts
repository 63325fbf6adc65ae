/**
 * The answer to a sync invocation once its execution has ended, for both ways a request can
 * arrive (the Fastify route in invocations.ts and the node:http fast path), so they cannot drift.
 * A success is assembled around the runtime's JSON text (checked once, in outcomes.ts) instead of
 * parsing and serializing it again.
 */
import { HEADERS } from '../contracts/index.js';
import type { Execution } from '../invocation/executions.js';

export interface SyncAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const UNSPECIFIED_FAILURE = { error: 'FUNCTION_ERROR', message: 'the invocation failed' };

export function syncAnswer(execution: Execution): SyncAnswer {
  const outcome = execution.outcome!;
  const id = execution.id;
  if (outcome.status === 'success') {
    return {
      status: 200,
      body: `{"executionId":"${id}","status":"success","output":${outcome.outputJson}}`,
      headers: { [HEADERS.executionId]: id },
    };
  }
  return {
    status: outcome.httpStatus,
    body: JSON.stringify({ executionId: id, status: outcome.status, ...(outcome.error ?? UNSPECIFIED_FAILURE) }),
    headers: { [HEADERS.executionId]: id, ...outcome.headers },
  };
}
