import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type {
  EnqueueResponse,
  ExecutionStatus,
  FunctionSpec,
  FunctionSpecInput,
  FunctionView,
  InvokeResponse,
} from '@nanofaas/control-plane/contracts';
import { HEADERS, MAX_EXECUTION_WAIT_MS, MAX_FUNCTION_WAIT_MS } from '@nanofaas/control-plane/contracts';

/** A failed API call: the API's own `{error, message}` when it answered, else a connection error. */
export class ApiError extends Error {
  readonly status: number | undefined;
  readonly code: string;
  readonly url: string;
  readonly body: unknown;
  readonly executionId: string | undefined;
  constructor(init: { status?: number; code: string; message: string; url: string; body?: unknown; executionId?: string }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.url = init.url;
    this.body = init.body;
    this.executionId = init.executionId;
  }
}

export interface InvokeOptions {
  timeoutMs?: number;
  idempotencyKey?: string;
  traceId?: string;
  metadata?: Record<string, string>;
}

export interface InvokeResult extends InvokeResponse {
  durationMs: number;
  coldStart: boolean;
}

export interface ApiClientOptions {
  baseUrl: string;
  /** NANOFAAS_API_TOKEN: sent as a bearer token when set. */
  token?: string;
  /** Per-request timeout for everything but invoke (whose deadline is the function's). */
  requestTimeoutMs?: number;
}

const TERMINAL = new Set(['success', 'error', 'timeout']);

/** Strip what people paste from the banner: a trailing slash or `/v1/functions`. */
export function normalizeBaseUrl(url: string): string {
  let base = url.trim().replace(/\/+$/, '');
  base = base.replace(/\/v1(\/functions)?$/, '');
  if (!/^https?:\/\//.test(base)) throw new Error(`not an http(s) URL: ${url}`);
  return base;
}

/** The control plane's HTTP API (docs/design.md §2.1) on one keep-alive connection pool. */
export class ApiClient {
  readonly baseUrl: string;
  /** The bearer token this client sends (NANOFAAS_API_TOKEN, or the one a target read), for tools that call the API themselves. */
  readonly token: string | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 32 });
    this.token = options.token || undefined;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  listFunctions(): Promise<FunctionSpec[]> {
    return this.call<FunctionSpec[]>('GET', '/v1/functions');
  }

  /** The function and its live status; with `waitMs` the server answers once it is no longer PENDING (or waitMs passed). */
  getFunction(name: string, waitMs = 0, signal?: AbortSignal): Promise<FunctionView> {
    const path = `/v1/functions/${encodeURIComponent(name)}`;
    if (waitMs <= 0) return this.call<FunctionView>('GET', path);
    return this.send<FunctionView>('GET', `${path}?waitMs=${waitMs}`, undefined, {}, waitMs + this.timeoutMs, signal).then((r) => r.body);
  }

  /**
   * Wait until a function has started (READY/DEGRADED) or cannot (FAILED), with back-to-back
   * long-polls; returns its view, still PENDING when `timeoutMs` ran out first.
   */
  async waitForFunction(name: string, timeoutMs: number, signal?: AbortSignal): Promise<FunctionView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const asked = Math.max(1, Math.min(left, MAX_FUNCTION_WAIT_MS));
      const t0 = Date.now();
      const view = await this.getFunction(name, asked, signal);
      if (view.status?.state !== 'PENDING' || Date.now() >= deadline) return view;
      // Still PENDING long before the time asked for: a control plane without this long-poll
      // answers at once, so pace the loop instead of spinning.
      if (Date.now() - t0 < Math.min(asked, 250)) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Wait until every desired replica is ready (READY), or it cannot start (FAILED); returns the
   * view, still PENDING/DEGRADED when `timeoutMs` ran out first. The long-poll answers at once
   * while some replicas are ready (DEGRADED), so that stretch is paced here.
   */
  async waitForReplicas(name: string, timeoutMs: number, signal?: AbortSignal): Promise<FunctionView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.waitForFunction(name, Math.max(1, deadline - Date.now()), signal);
      const state = view.status?.state;
      if (state === 'READY' || state === 'FAILED' || Date.now() >= deadline) return view;
      // The long-poll answers as soon as a function leaves PENDING, so DEGRADED (some replicas up)
      // comes back at once: look again shortly rather than spin.
      await delay(200, undefined, signal ? { signal } : {});
    }
  }

  registerFunction(spec: FunctionSpecInput): Promise<FunctionSpec> {
    return this.call<FunctionSpec>('POST', '/v1/functions', spec);
  }

  async deleteFunction(name: string): Promise<void> {
    await this.call('DELETE', `/v1/functions/${encodeURIComponent(name)}`);
  }

  setReplicas(name: string, replicas: number): Promise<{ name: string; replicas: number }> {
    return this.call('PUT', `/v1/functions/${encodeURIComponent(name)}/replicas`, { replicas });
  }

  async invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const t0 = performance.now();
    const { body, headers } = await this.send<InvokeResponse>(
      'POST',
      `/v1/functions/${encodeURIComponent(name)}:invoke`,
      { input, ...(options.metadata ? { metadata: options.metadata } : {}) },
      invocationHeaders(options),
      // The server enforces the function's own deadline; ours only guards against a hung socket.
      (options.timeoutMs ?? 300_000) + 5_000,
    );
    return { ...body, durationMs: performance.now() - t0, coldStart: headers[HEADERS.coldStart] === 'true' };
  }

  enqueue(name: string, input: unknown, options: InvokeOptions = {}): Promise<EnqueueResponse> {
    return this.call<EnqueueResponse>(
      'POST',
      `/v1/functions/${encodeURIComponent(name)}:enqueue`,
      { input, ...(options.metadata ? { metadata: options.metadata } : {}) },
      invocationHeaders(options),
    );
  }

  /** The execution's state; with `waitMs` the server holds the answer until it ends or waitMs elapses. */
  execution(id: string, waitMs = 0, signal?: AbortSignal): Promise<ExecutionStatus> {
    const path = `/v1/executions/${encodeURIComponent(id)}`;
    if (waitMs <= 0) return this.call<ExecutionStatus>('GET', path);
    return this.send<ExecutionStatus>('GET', `${path}?waitMs=${waitMs}`, undefined, {}, waitMs + this.timeoutMs, signal).then(
      (r) => r.body,
    );
  }

  /**
   * Wait until an execution is terminal with back-to-back long-polls, each up to the time left
   * (at most the API's maximum): the answer comes when the execution ends, with no sleeping.
   */
  async waitForExecution(id: string, timeoutMs: number, signal?: AbortSignal): Promise<ExecutionStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const status = await this.execution(id, Math.max(1, Math.min(left, MAX_EXECUTION_WAIT_MS)), signal);
      if (TERMINAL.has(status.status)) return status;
      if (Date.now() >= deadline) {
        throw new ApiError({
          code: 'WAIT_TIMEOUT',
          message: `execution ${id} still ${status.status} after ${timeoutMs} ms`,
          url: this.url(`/v1/executions/${id}`),
        });
      }
    }
  }

  /** GET any URL through the same pool (management /readyz, Prometheus); returns status + text. */
  async probe(url: string, timeoutMs = 2_000): Promise<{ status: number; text: string }> {
    const res = await request(url, { method: 'GET', dispatcher: this.dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private url(path: string): string {
    return this.baseUrl + path;
  }

  private async call<T>(method: Dispatcher.HttpMethod, path: string, payload?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return (await this.send<T>(method, path, payload, headers, this.timeoutMs)).body;
  }

  private async send<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    payload: unknown,
    extraHeaders: Record<string, string>,
    timeoutMs: number,
    /** Ends a long wait early (the user's Ctrl-C). */
    signal?: AbortSignal,
  ): Promise<{ body: T; headers: Record<string, string | string[] | undefined> }> {
    const url = this.url(path);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        dispatcher: this.dispatcher,
        headers: {
          ...this.headers,
          ...extraHeaders,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = (error as NodeJS.ErrnoException).code ?? 'UNREACHABLE';
      throw new ApiError({
        code: 'UNREACHABLE',
        message: `cannot reach the nanofaas API at ${this.baseUrl} (${code === 'ECONNREFUSED' ? 'connection refused' : (error as Error).message || code})`,
        url,
      });
    }
    const text = await res.body.text();
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (res.statusCode >= 400) {
      const err = body as { error?: unknown; message?: unknown; executionId?: unknown } | undefined;
      const code = typeof err?.error === 'string' ? err.error : `HTTP_${res.statusCode}`;
      const message =
        typeof err?.message === 'string' ? err.message : typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${res.statusCode}`;
      throw new ApiError({
        status: res.statusCode,
        code,
        message,
        url,
        body,
        ...(typeof err?.executionId === 'string' ? { executionId: err.executionId } : {}),
      });
    }
    return { body: body as T, headers: res.headers };
  }
}

function invocationHeaders(options: InvokeOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.timeoutMs !== undefined) headers[HEADERS.timeoutMs] = String(options.timeoutMs);
  if (options.idempotencyKey) headers[HEADERS.idempotencyKey] = options.idempotencyKey;
  if (options.traceId) headers[HEADERS.traceId] = options.traceId;
  return headers;
}
