/** /v1/functions: register, list, inspect, delete, scale. */
import { Type } from '@sinclair/typebox';
import {
  FunctionSpec,
  FunctionSpecInput,
  FunctionView,
  MAX_FUNCTION_WAIT_MS,
  ReplicasRequest,
  ReplicasResponse,
} from '../contracts/index.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { type Api, NameParams, errors, inline } from './types.js';

const FunctionQuery = Type.Object({
  waitMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_FUNCTION_WAIT_MS,
      description: 'Long-poll: answer once the function is no longer PENDING, or after this many ms. 0 or absent: at once.',
    }),
  ),
});

const DIGITS = /^\d{1,9}$/;

export function functionRoutes(app: Api, registry: FunctionRegistry): void {
  const spec = inline(FunctionSpec);

  app.get('/v1/functions', {
    schema: { tags: ['functions'], summary: 'List registered functions', response: { 200: Type.Array(spec), ...errors(401) } },
    handler: async () => registry.list(),
  });

  app.post('/v1/functions', {
    schema: {
      tags: ['functions'],
      summary: 'Register a function',
      description:
        '429 LIMIT_EXCEEDED when NANOFAAS_MAX_FUNCTIONS or NANOFAAS_MAX_TOTAL_REPLICAS would be exceeded (the message names the cap).',
      body: inline(FunctionSpecInput),
      response: { 201: spec, ...errors(400, 401, 409, 413, 415, 429, 503) },
    },
    handler: async (request, reply) => {
      const registered = await registry.register(request.body);
      return reply.code(201).send(registered);
    },
  });

  app.get('/v1/functions/:name', {
    schema: {
      tags: ['functions'],
      summary: 'A function with its live status',
      description:
        `With waitMs (at most ${MAX_FUNCTION_WAIT_MS} ms), a function still starting (state PENDING) is answered once it is ` +
        'READY, DEGRADED or FAILED, or when waitMs has passed: clients wait for readiness without polling. ' +
        'A FAILED status carries a one-line message, and on the process backend logPath and logTail.',
      params: NameParams,
      querystring: FunctionQuery,
      response: { 200: inline(FunctionView), ...errors(400, 401, 404) },
    },
    // Query values are strings and the app's Ajv does not coerce (see api/executions.ts).
    preValidation: async (request) => {
      const query = request.query as Record<string, unknown>;
      if (typeof query.waitMs === 'string' && DIGITS.test(query.waitMs)) query.waitMs = Number(query.waitMs);
    },
    handler: async (request, reply) => {
      const waitMs = request.query.waitMs ?? 0;
      if (waitMs === 0) return registry.view(request.params.name);
      const hangUp = new AbortController();
      const onClose = (): void => hangUp.abort();
      reply.raw.once('close', onClose);
      try {
        return await registry.settledView(request.params.name, waitMs, hangUp.signal);
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  });

  app.delete('/v1/functions/:name', {
    schema: {
      tags: ['functions'],
      summary: 'Delete a function; its still-queued executions end as FUNCTION_DELETED',
      params: NameParams,
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
    handler: async (request, reply) => {
      await registry.remove(request.params.name);
      return reply.code(204).send(null);
    },
  });

  app.put('/v1/functions/:name/replicas', {
    schema: {
      tags: ['functions'],
      summary: 'Set the desired replica count',
      description:
        '429 LIMIT_EXCEEDED when the sum over all functions would exceed NANOFAAS_MAX_TOTAL_REPLICAS; scaling down is always allowed.',
      params: NameParams,
      body: ReplicasRequest,
      response: { 200: ReplicasResponse, ...errors(400, 401, 404, 413, 415, 429, 503) },
    },
    handler: async (request) => {
      const updated = await registry.setReplicas(request.params.name, request.body.replicas);
      return { name: updated.name, replicas: updated.replicas };
    },
  });
}
