/**
 * The one place HTTP errors are shaped. Handlers throw `ApiError(code, message)`; the status comes
 * from the ERROR_CODES table, and every framework error (validation, JSON, content type, size,
 * unknown route) is mapped to `{error, message, details?}` with a stable code instead of a 500.
 * What node:http answers before any handler runs (malformed HTTP, timeouts, oversize headers)
 * is shaped the same way by the HTTP edge (http/edge.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from './contracts/index.js';

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_CODES[code];
  }
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: code, message } : { error: code, message, details };
}

/** Fastify's own error codes → ours. Anything 4xx we do not know keeps its status with a generic code. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  // Router errors (app.ts passes them here through `frameworkErrors`): bad percent-encoding in the
  // path, and a path parameter over the router's 200 characters (names over 60 are 400 already).
  FST_ERR_BAD_URL: 'MALFORMED_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_ERROR',
};

const FRAMEWORK_MESSAGES: Partial<Record<ErrorCode, string>> = {
  UNSUPPORTED_MEDIA_TYPE: 'the body must be JSON (Content-Type: application/json)',
  PAYLOAD_TOO_LARGE: 'the request body is larger than the limit (NANOFAAS_BODY_LIMIT_BYTES)',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  417: 'EXPECTATION_FAILED',
  431: 'HEADERS_TOO_LARGE',
};

export interface MappedError {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

export function mapError(err: FastifyError | ApiError | Error): MappedError {
  if (err instanceof ApiError) {
    return { status: err.status, body: errorBody(err.code, err.message, err.details), headers: err.headers };
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const details = validationDetails(fe.validation);
    const where = fe.validationContext ?? 'request';
    const text = details.map((d) => `${where}${d.path === '/' ? '' : d.path} ${d.message}`).join(', ');
    return { status: 400, body: errorBody('VALIDATION_ERROR', `invalid ${where}: ${text}`, details) };
  }
  const known = fe.code ? FRAMEWORK_CODES[fe.code] : undefined;
  if (known) return { status: ERROR_CODES[known], body: errorBody(known, FRAMEWORK_MESSAGES[known] ?? fe.message) };
  // JSON.parse / secure-json-parse failures (including __proto__ keys) surface as SyntaxError.
  if (err instanceof SyntaxError) return { status: 400, body: errorBody('INVALID_JSON', `body is not valid JSON: ${err.message}`) };
  const status = fe.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: errorBody(STATUS_CODES[status] ?? 'VALIDATION_ERROR', fe.message) };
  }
  return { status: 500, body: errorBody('INTERNAL_ERROR', 'internal error') };
}

interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string | undefined;
}

/**
 * One entry per problem. A union of constants (runtime, runtimeMode, …) fails as one "must be
 * equal to constant" per allowed value plus "must match a schema in anyOf"; that becomes one
 * "must be one of: a, b, c" so the reader sees the valid values once.
 */
export function validationDetails(errors: readonly SchemaError[]): { path: string; message: string }[] {
  const folded = new Set<SchemaError>();
  const replacement = new Map<SchemaError, string>();
  for (const union of errors) {
    if (union.keyword !== 'anyOf') continue;
    const prefix = `${union.schemaPath}/`;
    const branches = errors.filter((e) => e !== union && e.schemaPath.startsWith(prefix));
    if (branches.length === 0 || !branches.every((e) => e.keyword === 'const' && e.instancePath === union.instancePath)) continue;
    const allowed = [...new Set(branches.map((e) => JSON.stringify(e.params.allowedValue)))];
    for (const e of branches) folded.add(e);
    replacement.set(union, `must be one of: ${allowed.map((v) => (v.startsWith('"') ? v.slice(1, -1) : v)).join(', ')}`);
  }
  return errors
    .filter((e) => !folded.has(e))
    .map((e) => ({ path: e.instancePath || '/', message: replacement.get(e) ?? e.message ?? 'invalid' }));
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = mapError(err);
  if (mapped.status >= 500 && !(err instanceof ApiError)) request.log.error({ err }, 'unhandled error');
  if (mapped.headers) void reply.headers(mapped.headers);
  void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
}
