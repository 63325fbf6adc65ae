/** GET /v1/executions/{id} and the runtime callback POST /v1/internal/executions/{id}:complete. */
import { Type } from '@sinclair/typebox';
import { CompletionRequest, ExecutionStatus, MAX_EXECUTION_WAIT_MS } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import { toExecutionStatus } from '../invocation/executions.js';
import type { Invoker } from '../invocation/invoker.js';
import type { AsyncInvocations } from '../nats/nats-mode.js';
import { type Api, ExecutionIdParams, errors, inline } from './types.js';

// Proxies commonly cut idle requests at 60 s: a long-poll stays well under that.
const MAX_WAIT_MS = MAX_EXECUTION_WAIT_MS;

const ExecutionQuery = Type.Object({
  waitMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_WAIT_MS,
      description: `Long-poll: answer as soon as the execution ends (success, error, timeout) or after this many ms with its current state. 0 or absent: answer at once.`,
    }),
  ),
});

const DIGITS = /^\d{1,9}$/;

export function executionRoutes(app: Api, invoker: Invoker, shared?: AsyncInvocations): void {
  app.get('/v1/executions/:id', {
    schema: {
      tags: ['executions'],
      summary: 'State and result of an execution',
      description: `With waitMs, the answer waits (at most ${MAX_WAIT_MS} ms) for the execution to end instead of making the client poll.`,
      params: ExecutionIdParams,
      querystring: ExecutionQuery,
      response: { 200: inline(ExecutionStatus), ...errors(400, 401, 404) },
    },
    // The app's Ajv does not coerce, and query values are strings: turn a plain decimal into a
    // number so the schema's integer range applies; anything else stays a string and fails it.
    preValidation: async (request) => {
      const query = request.query as Record<string, unknown>;
      if (typeof query.waitMs === 'string' && DIGITS.test(query.waitMs)) query.waitMs = Number(query.waitMs);
    },
    handler: async (request, reply) => {
      const found = invoker.executions.get(request.params.id);
      const waitMs = request.query.waitMs ?? 0;
      // NATS mode: sync executions stay in this process; async ones are in the shared store.
      if (!found && shared) return sharedStatus(shared, request.params.id, waitMs, reply.raw);
      if (!found) throw new ApiError('EXECUTION_NOT_FOUND', `execution "${request.params.id}" not found (unknown or expired)`);
      if (waitMs === 0 || found.outcome) return toExecutionStatus(found);
      // A client that hangs up stops its wait at once rather than holding a timer and a listener.
      const hangUp = new AbortController();
      const onClose = (): void => hangUp.abort();
      reply.raw.once('close', onClose);
      try {
        return toExecutionStatus(await invoker.waits.wait(found, waitMs, hangUp.signal));
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  });

  app.post('/v1/internal/executions/:id(^[^/:]+)::complete', {
    schema: {
      tags: ['internal'],
      summary: 'Runtime callback: report the result of an attempt',
      description: 'Idempotent per attempt: repeating the completion that ended the execution changes nothing; a conflicting one is 409.',
      params: ExecutionIdParams,
      body: inline(CompletionRequest),
      response: { 204: Type.Null(), ...errors(400, 401, 404, 409, 413, 415) },
    },
    // Runtimes authenticate with their function's callback credential (api/auth.ts).
    config: { callbackOwner: (id: string) => invoker.executions.get(id)?.functionName },
    handler: async (request, reply) => {
      invoker.complete(request.params.id, request.body);
      return reply.code(204).send(null);
    },
  });
}

/** NATS mode: an async execution from the shared store, long-polled like §2.4 (a hang-up ends the wait). */
async function sharedStatus(shared: AsyncInvocations, id: string, waitMs: number, raw: NodeJS.EventEmitter): Promise<ExecutionStatus> {
  const hangUp = new AbortController();
  const onClose = (): void => hangUp.abort();
  raw.once('close', onClose);
  try {
    const status = await shared.status(id, waitMs, hangUp.signal);
    if (!status) throw new ApiError('EXECUTION_NOT_FOUND', `execution "${id}" not found (unknown or expired)`);
    return status;
  } finally {
    raw.off('close', onClose);
  }
}
