/**
 * The management server (NANOFAAS_MANAGEMENT_PORT): Prometheus metrics and health probes, kept
 * off the API port so scraping and probing never compete with invocations for the router.
 * Served by the same HTTP edge as the API (http/edge.ts), with its own small body limit.
 */
import type { Server } from 'node:http';
import type { Config } from './config.js';
import { createEdgeServer } from './http/edge.js';
import type { Metrics } from './metrics.js';

/** No management endpoint takes a body; anything larger than this is refused with 413. */
export const MANAGEMENT_BODY_LIMIT_BYTES = 8 * 1024;

export interface ManagementOptions {
  metrics: Metrics;
  /** Ready to take traffic: listening, not shutting down, default backend healthy. */
  ready(): Promise<boolean>;
  /** Extra fields of the /readyz answer (NATS mode: `workloadOwner`). */
  readyDetails?: () => Record<string, unknown>;
  /** Timeouts and connection cap of the HTTP edge. */
  http: Config['http'];
  /** True once the control plane is shutting down: answers go on (probes, metrics), connections close after each. */
  closing(): boolean;
}

const json = (status: number, body: unknown): [number, string] => [status, JSON.stringify(body)];

export function createManagementServer(options: ManagementOptions): Server {
  return createEdgeServer(
    (request, response) => {
      const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
      const send = ([status, body]: [number, string], type = 'application/json; charset=utf-8') => {
        response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
        response.end(body);
      };
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        send(json(405, { error: 'METHOD_NOT_ALLOWED', message: 'management endpoints answer GET only' }));
        return;
      }
      switch (path) {
        case '/metrics':
        case '/actuator/prometheus':
          options.metrics.registry.metrics().then(
            (text) => send([200, text], options.metrics.registry.contentType),
            () => send(json(500, { error: 'INTERNAL_ERROR', message: 'metrics collection failed' })),
          );
          return;
        case '/healthz':
        case '/actuator/health/liveness':
          send(json(200, { status: 'UP' }));
          return;
        case '/readyz':
        case '/actuator/health/readiness':
        case '/actuator/health':
          options.ready().then(
            (ok) => send(json(ok ? 200 : 503, { status: ok ? 'UP' : 'DOWN', ...options.readyDetails?.() })),
            () => send(json(503, { status: 'DOWN', ...options.readyDetails?.() })),
          );
          return;
        default:
          send(json(404, { error: 'NOT_FOUND', message: `no management endpoint ${path.slice(0, 200)}` }));
      }
    },
    {
      ...options.http,
      bodyLimitBytes: MANAGEMENT_BODY_LIMIT_BYTES,
      closing: options.closing,
      whenClosing: 'serve',
      handlerReadsBodies: false,
    },
  );
}
