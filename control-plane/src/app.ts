/**
 * The API app factory: Fastify 5 with the TypeBox type provider, one JSON body parser that also
 * keeps the raw text (invocations forward it untouched), the error mapping, optional bearer auth,
 * the OpenAPI document and the routes of docs/design.md §2.1, served by the HTTP edge (http/edge.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { bearerAuth } from './api/auth.js';
import { executionRoutes } from './api/executions.js';
import { functionRoutes } from './api/functions.js';
import { createInvokeFastPath } from './api/invoke-fast-path.js';
import { invocationRoutes } from './api/invocations.js';
import { trackRoutesForMethodCheck } from './api/not-found.js';
import { openapiRoute } from './api/openapi.js';
import type { Api } from './api/types.js';
import type { Config } from './config.js';
import { errorHandler } from './errors.js';
import { createEdgeServer } from './http/edge.js';
import type { Invoker } from './invocation/invoker.js';
import type { AsyncInvocations } from './nats/nats-mode.js';
import type { FunctionRegistry } from './registry/function-registry.js';

export interface ApiAppOptions {
  logger: FastifyServerOptions['loggerInstance'];
  bodyLimitBytes: number;
  /** Timeouts and connection cap of the HTTP edge. */
  http: Config['http'];
  apiToken: string | undefined;
  registry: FunctionRegistry;
  invoker: Invoker;
  /** NATS mode: :enqueue and async executions go through JetStream (docs/design.md §3.12). */
  asyncInvocations?: AsyncInvocations;
  version: string;
}

export async function buildApiApp(options: ApiAppOptions): Promise<Api> {
  let fastPath: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  let closing = false;
  const app = Fastify({
    // The edge answers oversize, shutting-down and malformed requests before Fastify sees them;
    // the sync-invoke hot path is served before Fastify's router (see api/invoke-fast-path.ts).
    serverFactory: (handler) =>
      createEdgeServer(
        (req, res) => {
          if (fastPath === undefined || !fastPath(req, res)) handler(req, res);
        },
        {
          ...options.http,
          bodyLimitBytes: options.bodyLimitBytes,
          closing: () => closing,
          whenClosing: 'refuse',
          handlerReadsBodies: true,
        },
      ),
    // The edge answers client errors in the JSON format; Fastify's own answer would come second.
    clientErrorHandler: () => undefined,
    // The router's own answers (bad URL encoding, over-long parameter) go through our mapping too.
    frameworkErrors: errorHandler,
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    // No per-request log lines: the hot path logs nothing unless something goes wrong.
    logController: new LogController({ disableRequestLogging: true }),
    // The edge answers 503 SHUTTING_DOWN in the JSON format (Fastify's would be {"error":"Service Unavailable",…}).
    return503OnClosing: false,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as Api;

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    parseJson(request, body as string, done);
  });
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.setErrorHandler(errorHandler);
  trackRoutesForMethodCheck(app);
  if (options.apiToken) bearerAuth(app, options.apiToken);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'nanofaas control plane', version: options.version, description: 'nanofaas v1 API (docs/design.md §2.1)' },
      components: options.apiToken ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {},
      security: options.apiToken ? [{ bearer: [] }] : [],
    },
  });

  functionRoutes(app, options.registry);
  invocationRoutes(app, options.invoker, options.asyncInvocations);
  executionRoutes(app, options.invoker, options.asyncInvocations);
  openapiRoute(app);
  fastPath = createInvokeFastPath({
    invoker: options.invoker,
    bodyLimitBytes: options.bodyLimitBytes,
    apiToken: options.apiToken,
    parseJson: parseJson as Parameters<typeof createInvokeFastPath>[0]['parseJson'],
    asyncInvocations: options.asyncInvocations,
  });
  return app;
}
