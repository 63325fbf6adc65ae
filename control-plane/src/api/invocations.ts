/**
 * POST /v1/functions/{name}:invoke (sync) and :enqueue (async). The hot path: the body is
 * forwarded as received and the success answer is assembled around the runtime's JSON text
 * (checked to be JSON once, in outcomes.ts), so nothing is serialized twice.
 */
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { IncomingHttpHeaders } from 'node:http';
import { EnqueueResponse, HEADERS, InvocationRequest, InvokeErrorResponse, InvokeResponse } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import type { Execution } from '../invocation/executions.js';
import type { InvocationOptions, Invoker } from '../invocation/invoker.js';
import type { AsyncInvocations } from '../nats/nats-mode.js';
import { syncAnswer } from './sync-answer.js';
import { type Api, NameParams, errors, inline } from './types.js';

const MAX_HEADER_VALUE = 256;
const TIMEOUT_PATTERN = /^[1-9][0-9]{0,8}$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HEADER_VALUE) {
    throw new ApiError('VALIDATION_ERROR', `header ${name} must be one value of 1–${MAX_HEADER_VALUE} characters`);
  }
  return value;
}

export function invocationOptions(headers: IncomingHttpHeaders, sync: boolean): InvocationOptions {
  let timeoutMs: number | undefined;
  if (sync) {
    const raw = header(headers, HEADERS.timeoutMs);
    if (raw !== undefined) {
      if (!TIMEOUT_PATTERN.test(raw)) throw new ApiError('VALIDATION_ERROR', `header ${HEADERS.timeoutMs} must be a positive integer (ms)`);
      timeoutMs = Number(raw);
    }
  }
  return { traceId: header(headers, HEADERS.traceId), idempotencyKey: header(headers, HEADERS.idempotencyKey), timeoutMs };
}

/** The sync answer of an ended execution (also used for a repeated idempotency key). */
function sendOutcome(reply: FastifyReply, execution: Execution): void {
  const answer = syncAnswer(execution);
  void reply.code(answer.status).headers(answer.headers).type('application/json; charset=utf-8').send(answer.body);
}

function sendQueued(reply: FastifyReply, id: string): FastifyReply {
  return reply
    .code(202)
    .header(HEADERS.executionId, id)
    .type('application/json; charset=utf-8')
    .send(`{"executionId":"${id}","status":"queued"}`);
}

export function invocationRoutes(app: Api, invoker: Invoker, shared?: AsyncInvocations): void {
  const body = inline(InvocationRequest);
  // Errors raised before an execution exists (validation, 404, 429) carry no executionId/status.
  const invokeError = Type.Object({
    executionId: Type.Optional(Type.String()),
    status: Type.Optional(InvokeErrorResponse.properties.status),
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  });

  app.post('/v1/functions/:name(^[^/:]+)::invoke', {
    schema: {
      tags: ['invocations'],
      summary: 'Invoke a function and wait for its result',
      description:
        'Headers: Idempotency-Key (same key within the TTL returns the same execution), X-Trace-Id (forwarded), ' +
        'X-Timeout-Ms (≤ the function timeout). 429 QUEUE_FULL carries Retry-After and X-Queue-Reject-Reason (depth|est_wait|timeout|rate); ' +
        '429 LIMIT_EXCEEDED (Retry-After) when NANOFAAS_MAX_LIVE_EXECUTIONS executions are queued or running. ' +
        '503 FUNCTION_UNAVAILABLE at once when the function cannot start (state FAILED; details: reason, logPath, logTail), ' +
        'also for a call already waiting when it fails.',
      params: NameParams,
      body,
      response: {
        200: InvokeResponse,
        400: invokeError,
        429: invokeError,
        502: invokeError,
        503: invokeError,
        504: invokeError,
        ...errors(401, 404, 413, 415),
      },
    },
    handler: (request, reply) => {
      const opts = invocationOptions(request.headers, true);
      invoker.invoke(request.params.name, request.rawBody!, opts, (execution) => sendOutcome(reply as FastifyReply, execution));
    },
  });

  app.post('/v1/functions/:name(^[^/:]+)::enqueue', {
    schema: {
      tags: ['invocations'],
      summary: 'Queue an asynchronous invocation',
      description:
        'Headers: Idempotency-Key, X-Trace-Id. Poll GET /v1/executions/{id} for the result. ' +
        '429 QUEUE_FULL (queue depth) or LIMIT_EXCEEDED (NANOFAAS_MAX_LIVE_EXECUTIONS). ' +
        '503 FUNCTION_UNAVAILABLE at once when the function cannot start (state FAILED): nothing is accepted that could only ' +
        'wait for a fix. Executions accepted before it failed stay queued: they run if a restart succeeds, or end as FUNCTION_DELETED.',
      params: NameParams,
      body,
      response: { 202: EnqueueResponse, ...errors(400, 401, 404, 413, 415, 429, 503) },
    },
    handler: shared
      ? // NATS mode: 202 only once JetStream has stored the invocation.
        async (request, reply) => {
          const id = await shared.enqueue(request.params.name, request.rawBody!, invocationOptions(request.headers, false));
          return sendQueued(reply as FastifyReply, id);
        }
      : (request, reply) => {
          void sendQueued(
            reply as FastifyReply,
            invoker.enqueue(request.params.name, request.rawBody!, invocationOptions(request.headers, false)).id,
          );
        },
  });
}
