import { Type, type Static } from '@sinclair/typebox';

/** Body of POST /v1/functions/{name}:invoke and :enqueue. */
export const InvocationRequest = Type.Object(
  {
    input: Type.Unknown(),
    metadata: Type.Optional(
      // Keys are bounded through the pattern (a Record's key schema is otherwise not enforced).
      Type.Record(Type.String({ pattern: '^[\\s\\S]{1,256}$' }), Type.String({ maxLength: 4096 }), {
        additionalProperties: false,
        maxProperties: 64,
      }),
    ),
  },
  { $id: 'InvocationRequest', additionalProperties: false },
);
export type InvocationRequest = Static<typeof InvocationRequest>;

export const ExecutionState = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('success'),
  Type.Literal('error'),
  Type.Literal('timeout'),
]);
export type ExecutionState = Static<typeof ExecutionState>;

export const ExecutionError = Type.Object({
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

/** GET /v1/executions/{id}. Timestamps are ISO-8601 strings; null until they happen. */
export const ExecutionStatus = Type.Object(
  {
    executionId: Type.String(),
    functionName: Type.String(),
    status: ExecutionState,
    attempts: Type.Integer(),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    output: Type.Optional(Type.Unknown()),
    error: Type.Union([ExecutionError, Type.Null()]),
  },
  { $id: 'ExecutionStatus' },
);
export type ExecutionStatus = Static<typeof ExecutionStatus>;

/** 200 answer of :invoke. */
export const InvokeResponse = Type.Object({
  executionId: Type.String(),
  status: Type.Literal('success'),
  output: Type.Unknown(),
});
export type InvokeResponse = Static<typeof InvokeResponse>;

/** 4xx answer of :invoke when the function rejected its input: its status, status "error". */
export const InvokeErrorResponse = Type.Object({
  executionId: Type.String(),
  status: Type.Union([Type.Literal('error'), Type.Literal('timeout')]),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

/** 202 answer of :enqueue. */
export const EnqueueResponse = Type.Object({
  executionId: Type.String(),
  status: Type.Literal('queued'),
});
export type EnqueueResponse = Static<typeof EnqueueResponse>;

/** Body of POST /v1/internal/executions/{id}:complete (runtime callback). */
export const CompletionRequest = Type.Object(
  {
    attempt: Type.Optional(Type.Integer({ minimum: 1 })),
    status: Type.Union([Type.Literal('success'), Type.Literal('error')]),
    output: Type.Optional(Type.Unknown()),
    error: Type.Optional(ExecutionError),
  },
  { $id: 'CompletionRequest', additionalProperties: false },
);
export type CompletionRequest = Static<typeof CompletionRequest>;

/** Longest long-poll of GET /v1/executions/{id}?waitMs=N; clients loop for longer waits. */
export const MAX_EXECUTION_WAIT_MS = 30_000;

/**
 * Headers with meaning on the invocation path, lower-case as node:http and undici present them.
 * The control plane and the API client (src/api-client) both use these names, never their own spelling.
 */
export const HEADERS = {
  executionId: 'x-execution-id',
  traceId: 'x-trace-id',
  idempotencyKey: 'idempotency-key',
  timeoutMs: 'x-timeout-ms',
  dispatchAttempt: 'x-dispatch-attempt',
  queueRejectReason: 'x-queue-reject-reason',
  coldStart: 'x-cold-start',
  initDurationMs: 'x-init-duration-ms',
  /** Seconds to wait before retrying a 429 (QUEUE_FULL, LIMIT_EXCEEDED). */
  retryAfter: 'retry-after',
} as const;
