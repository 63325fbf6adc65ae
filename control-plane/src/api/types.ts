/** Shared types and small schemas of the HTTP API layer. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorBody, FUNCTION_NAME_PATTERN } from '../contracts/index.js';

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body exactly as received; invoke/enqueue forward it without re-serializing. */
    rawBody?: string;
  }
}

/**
 * Contract schemas carry an `$id` for the CLI; inside route schemas the same object may appear
 * many times, which Ajv refuses for ids, so routes use id-less copies.
 */
export function inline<T extends TSchema>(schema: T): T {
  const { $id: _ignored, ...rest } = schema as T & { $id?: string };
  return rest as T;
}

export const NameParams = Type.Object({
  name: Type.String({ pattern: FUNCTION_NAME_PATTERN, maxLength: 60, description: 'Function name (DNS-1123 label)' }),
});

export const ExecutionIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$', description: 'Execution id' }),
});

export const ErrorResponse = inline(ErrorBody);

/** Error responses documented for a route, by status. */
export function errors(...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorResponse]));
}
