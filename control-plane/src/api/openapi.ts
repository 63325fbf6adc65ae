/** GET /v1/openapi.json: the OpenAPI document @fastify/swagger builds from the route schemas. */
import { Type } from '@sinclair/typebox';
import type { Api } from './types.js';

export function openapiRoute(app: Api): void {
  app.get('/v1/openapi.json', {
    schema: { tags: ['meta'], summary: 'This OpenAPI document', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    handler: async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  });
}
