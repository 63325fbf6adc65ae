/**
 * The HTTP surface of the runtime contract (docs/design.md §5), shared by the node runtime and the watchdog: POST /invoke, GET /health,
 * GET /metrics, cold-start headers, the deadline, the background callback and graceful shutdown.
 * What actually runs the function is the `invoke` function passed in.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCallbackSender, type CallbackSender } from './callback.js';
import type { ServerConfig } from './config.js';
import { RUNTIME_ERRORS, type RuntimeErrorCode } from './errors.js';
import type { Logger } from './log.js';
import type { Outcome, RuntimeMetrics } from './metrics.js';

export interface Invocation {
  input: unknown;
  metadata: Record<string, string>;
  executionId: string;
  traceId: string;
  attempt: number;
  /** Epoch ms; the server answers 504 at this moment whatever `invoke` is doing. */
  deadline: number;
  /** Aborted at the deadline and on forced shutdown: stop work, kill children. */
  signal: AbortSignal;
}

export type InvocationResult =
  | { ok: true /** the output, serialised JSON */; body: string }
  | { ok: false; code: RuntimeErrorCode; message: string };

export type Invoke = (invocation: Invocation) => Promise<InvocationResult>;

export interface RuntimeServerOptions {
  config: ServerConfig;
  invoke: Invoke;
  metrics: RuntimeMetrics;
  logger: Logger;
  /** Milliseconds from process start to "handler ready", reported on the first invocation. */
  initDurationMs: number;
  /** Runs after the last in-flight invocation on shutdown (e.g. stop STREAM children). */
  onClose?: () => Promise<void>;
}

export interface RuntimeServer {
  server: http.Server;
  /** Resolves with the bound port. */
  listen(): Promise<number>;
  /** Stop accepting, let in-flight invocations finish (up to the grace period), close. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';
const TIMEOUT_MESSAGE = (ms: number) => `the function did not finish within TIMEOUT_MS=${ms} ms`;

export function createRuntimeServer(options: RuntimeServerOptions): RuntimeServer {
  const { config, invoke, metrics, logger } = options;
  const sendCallback: CallbackSender | undefined = config.callbackUrl
    ? createCallbackSender(config.callbackUrl, logger, { token: config.callbackToken })
    : undefined;
  const inFlight = new Set<AbortController>();
  let coldPending = true;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/invoke') {
      if (req.method !== 'POST') return sendError(res, 'METHOD_NOT_ALLOWED', 'use POST /invoke');
      if (closing) return sendError(res, 'SHUTTING_DOWN', 'the runtime is shutting down');
      return handleInvoke(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(
        res,
        path === '/health' || path === '/metrics' ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
        `no route ${req.method} ${path}`,
      );
    }
    if (path === '/health') {
      if (closing) return sendError(res, 'SHUTTING_DOWN', 'the runtime is shutting down');
      return send(res, 200, JSON_TYPE, '{"status":"UP"}');
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(res, 200, metrics.registry.contentType, text),
        (err: Error) => sendError(res, 'FUNCTION_ERROR', `metrics failed: ${err.message}`),
      );
      return;
    }
    sendError(res, 'NOT_FOUND', `no route ${req.method} ${path}`);
  });
  // Dispatchers keep pooled connections open; outlive their idle timeouts so we never race a reuse.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  function handleInvoke(req: IncomingMessage, res: ServerResponse): void {
    const declared = Number(req.headers['content-length']);
    if (declared > config.maxBodyBytes) {
      req.resume();
      sendError(res, 'PAYLOAD_TOO_LARGE', `request body exceeds MAX_BODY_BYTES=${config.maxBodyBytes}`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > config.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return sendError(res, 'PAYLOAD_TOO_LARGE', `request body exceeds MAX_BODY_BYTES=${config.maxBodyBytes}`);
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        return sendError(res, 'INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return sendError(res, 'VALIDATION_ERROR', 'request body must be an object {input, metadata?}');
      }
      const { input = null, metadata = {} } = body as { input?: unknown; metadata?: unknown };
      if (!isStringRecord(metadata)) {
        return sendError(res, 'VALIDATION_ERROR', 'metadata must be an object of string values');
      }
      run(req, res, input, metadata);
    });
    req.on('error', () => res.destroy());
  }

  function run(req: IncomingMessage, res: ServerResponse, input: unknown, metadata: Record<string, string>): void {
    const started = performance.now();
    const controller = new AbortController();
    inFlight.add(controller);
    metrics.started();
    const executionId = header(req, 'x-execution-id');
    const attempt = Number(header(req, 'x-dispatch-attempt')) || 1;
    let settled = false;

    const finish = (result: InvocationResult, outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inFlight.delete(controller);
      metrics.finished(outcome, (performance.now() - started) / 1000);
      const coldHeaders = takeColdStartHeaders();
      if (result.ok) {
        send(res, 200, JSON_TYPE, result.body, coldHeaders);
        if (sendCallback && executionId) sendCallback({ executionId, attempt, outputJson: result.body });
      } else {
        sendError(res, result.code, result.message, coldHeaders);
        if (sendCallback && executionId) {
          sendCallback({ executionId, attempt, error: { error: result.code, message: result.message } });
        }
      }
      if (inFlight.size === 0) drained?.();
    };

    const timer = setTimeout(() => {
      finish({ ok: false, code: 'TIMEOUT', message: TIMEOUT_MESSAGE(config.timeoutMs) }, 'timeout');
      controller.abort(new Error('deadline exceeded'));
    }, config.timeoutMs);

    invoke({
      input,
      metadata,
      executionId,
      traceId: header(req, 'x-trace-id'),
      attempt,
      deadline: Date.now() + config.timeoutMs,
      signal: controller.signal,
    }).then(
      (result) => finish(result, result.ok ? 'success' : outcomeOf(result.code)),
      (err: unknown) => {
        logger('error', 'invoke failed unexpectedly', { error: String(err) });
        finish({ ok: false, code: 'FUNCTION_ERROR', message: errorMessage(err) }, 'error');
      },
    );
  }

  function takeColdStartHeaders(): Record<string, string> | undefined {
    if (!coldPending) return undefined;
    coldPending = false;
    metrics.coldStart(options.initDurationMs / 1000);
    return { 'x-cold-start': 'true', 'x-init-duration-ms': String(Math.round(options.initDurationMs)) };
  }

  function sendError(res: ServerResponse, code: RuntimeErrorCode, message: string, extra?: Record<string, string>): void {
    send(res, RUNTIME_ERRORS[code], JSON_TYPE, JSON.stringify({ error: code, message }), extra);
  }

  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close() {
      closing ??= (async () => {
        server.close();
        server.closeIdleConnections();
        if (inFlight.size > 0) {
          const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
          await Promise.race([new Promise<void>((resolve) => (drained = resolve)), grace]);
          for (const controller of inFlight) controller.abort(new Error('runtime shutting down'));
        }
        await options.onClose?.();
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { 'content-type': type, 'content-length': Buffer.byteLength(body) };
  if (extra) Object.assign(headers, extra);
  res.writeHead(status, headers);
  res.end(body);
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return typeof value === 'string' ? value : '';
}

function outcomeOf(code: RuntimeErrorCode): Outcome {
  if (code === 'TIMEOUT') return 'timeout';
  return code === 'INVALID_INPUT' ? 'invalid_input' : 'error';
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const v of Object.values(value)) if (typeof v !== 'string') return false;
  return true;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : `non-Error thrown: ${String(err)}`;
}
