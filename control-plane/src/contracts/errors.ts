import { Type, type Static } from '@sinclair/typebox';

/**
 * Every error the HTTP API can answer, with its status. One table so the server, the CLI
 * and the docs agree; codes are stable and upper-case (docs/design.md §2.2).
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  INVALID_INPUT: 400,
  /** Not parseable as HTTP/1.1, or an HTTP/1.1 request without a Host header (answered by the HTTP edge). */
  MALFORMED_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  FUNCTION_NOT_FOUND: 404,
  EXECUTION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** Headers or body did not arrive within NANOFAAS_HEADERS_TIMEOUT_MS / NANOFAAS_REQUEST_TIMEOUT_MS. */
  REQUEST_TIMEOUT: 408,
  FUNCTION_EXISTS: 409,
  ALREADY_COMPLETED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** An `Expect` header other than `100-continue`. */
  EXPECTATION_FAILED: 417,
  QUEUE_FULL: 429,
  /** A global cap (NANOFAAS_MAX_FUNCTIONS, _MAX_TOTAL_REPLICAS, _MAX_LIVE_EXECUTIONS) is reached; the message names it. */
  LIMIT_EXCEEDED: 429,
  /** The request line and headers exceed Node's limit (16 KiB). */
  HEADERS_TOO_LARGE: 431,
  FUNCTION_ERROR: 502,
  FUNCTION_DELETED: 502,
  BACKEND_UNAVAILABLE: 503,
  /**
   * The function's workload cannot start (state FAILED: e.g. its runtime exits before it is ready).
   * Sync and async calls are refused at once; `details` carries the reason, log path and tail.
   */
  FUNCTION_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error body shape: `{error, message, details?}`. */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'Stable upper-case error code' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Why a sync invocation was refused with 429 (header X-Queue-Reject-Reason). */
export const QueueRejectReason = Type.Union([
  Type.Literal('depth'),
  Type.Literal('est_wait'),
  Type.Literal('timeout'),
  Type.Literal('rate'),
]);
export type QueueRejectReason = Static<typeof QueueRejectReason>;
