/** GET /v1/executions/{id} and the runtime callback POST /v1/internal/executions/{id}:complete. */
import { Type } from '@sinclair/typebox';
import { CompletionRequest, ExecutionStatus } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import { toExecutionStatus } from '../invocation/executions.js';
import type { Invoker } from '../invocation/invoker.js';
import { type Api, ExecutionIdParams, errors, inline } from './types.js';

export function executionRoutes(app: Api, invoker: Invoker): void {
  app.get('/v1/executions/:id', {
    schema: {
      tags: ['executions'],
      summary: 'State and result of an execution',
      params: ExecutionIdParams,
      response: { 200: inline(ExecutionStatus), ...errors(400, 401, 404) },
    },
    handler: async (request) => {
      const execution = invoker.executions.get(request.params.id);
      if (!execution) throw new ApiError('EXECUTION_NOT_FOUND', `execution "${request.params.id}" not found (unknown or expired)`);
      return toExecutionStatus(execution);
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
    handler: async (request, reply) => {
      invoker.complete(request.params.id, request.body);
      return reply.code(204).send(null);
    },
  });
}
