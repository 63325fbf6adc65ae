/**
 * Sends one attempt to a runtime's `POST /invoke`. One undici Pool per runtime origin keeps
 * connections alive; the low-level dispatch API is used so the hot path allocates no streams
 * or promises. The request body is forwarded as received (it was validated, never re-serialized).
 */
import { Pool } from 'undici';
import type { Dispatcher as UndiciDispatcher } from 'undici';
import { HEADERS } from '../contracts/index.js';
import { Deadlines, type Pending } from './deadlines.js';

export type AttemptResult =
  | { kind: 'ok'; status: number; body: string; json: boolean; coldStart: boolean }
  /** The runtime answered 4xx: the function rejected its input. */
  | { kind: 'rejected'; status: number; body: string }
  /** The runtime answered 5xx (or something that is not HTTP success). */
  | { kind: 'failed'; status: number; body: string }
  /**
   * The connection could not be opened (refused, name not resolved, connect timeout): not one
   * byte of the request was written, so the runtime provably never saw it and it is safe to resend.
   */
  | { kind: 'refused'; message: string }
  /** The connection failed some other way (reset, closed mid-answer): the runtime may have run it. */
  | { kind: 'connection'; message: string }
  | { kind: 'timeout' };

export interface AttemptRequest {
  body: string;
  executionId: string;
  traceId: string | undefined;
  idempotencyKey: string | undefined;
  attempt: number;
  timeoutMs: number;
}

export interface AttemptHandle {
  /** Abandon the attempt (shutdown): the callback is invoked with `connection`. */
  abort(reason: string): void;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Errors that can only happen before a connection exists. ECONNRESET, EPIPE, "other side closed"
 * and the like may come after the request was written (a runtime killed mid-call), and
 * EHOSTUNREACH/ETIMEDOUT can also hit an established socket, so none of those is here.
 */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

interface Target {
  pool: Pool;
  path: string;
}

class TimeoutSignal extends Error {
  override name = 'AttemptTimeout';
}

const CONTENT_TYPE = 'content-type';
const COLD_START = HEADERS.coldStart;

/**
 * Written against undici's own handler interface (onConnect/onHeaders/onData/onComplete/onError),
 * the one its HTTP/1 client calls: a handler with the newer onRequestStart/onResponse* methods
 * is wrapped per request in an adapter and a controller, and gets its headers parsed into an
 * object, which measured ~2–4 % of the control plane's CPU per sync call (BENCHMARKS.md). Only
 * two response headers matter here, so the raw ones are scanned instead.
 */
class AttemptHandler implements UndiciDispatcher.DispatchHandler, AttemptHandle, Pending {
  private abortRequest: ((err: Error) => void) | undefined;
  private status = 0;
  private json = false;
  private coldStart = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private pendingAbort: Error | undefined;
  deadline = 0;
  previous: Pending | undefined;
  next: Pending | undefined;

  constructor(
    timeoutMs: number,
    private readonly deadlines: Deadlines,
    private readonly done: (result: AttemptResult) => void,
  ) {
    deadlines.add(this, timeoutMs);
  }

  expire(): void {
    this.cancel(new TimeoutSignal('attempt timed out'));
    this.settle({ kind: 'timeout' });
  }

  abort(reason: string): void {
    this.cancel(new Error(reason));
    this.settle({ kind: 'connection', message: reason });
  }

  private cancel(err: Error): void {
    if (this.abortRequest) this.abortRequest(err);
    else this.pendingAbort = err;
  }

  private settle(result: AttemptResult): void {
    if (this.settled) return;
    this.settled = true;
    this.deadlines.remove(this);
    this.chunks = [];
    this.done(result);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    if (this.pendingAbort) abort(this.pendingAbort);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const raw = rawHeaders[i]!;
      // Only a name of the right length is turned into a string, once.
      if (raw.length !== CONTENT_TYPE.length && raw.length !== COLD_START.length) continue;
      const name = raw.toString('latin1').toLowerCase();
      if (name === CONTENT_TYPE) this.json = rawHeaders[i + 1]!.toString('latin1').toLowerCase().includes('json');
      else if (name === COLD_START) this.coldStart = rawHeaders[i + 1]!.toString('latin1') === 'true';
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > MAX_RESPONSE_BYTES) {
      // Settled first: aborting calls onError at once, which would report a connection failure.
      this.settle({ kind: 'failed', status: 502, body: '' });
      this.abortRequest?.(new Error('runtime response too large'));
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    const chunks = this.chunks;
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    const status = this.status;
    if (status >= 200 && status < 300) this.settle({ kind: 'ok', status, body, json: this.json, coldStart: this.coldStart });
    else if (status >= 400 && status < 500) this.settle({ kind: 'rejected', status, body });
    // The runtime contract answers 504 when the handler ran past TIMEOUT_MS: the same outcome
    // as the control plane's own deadline firing first (504 TIMEOUT, counted as a timeout).
    else if (status === 504) this.settle({ kind: 'timeout' });
    else this.settle({ kind: 'failed', status, body });
  }

  onError(error: Error): void {
    if (this.settled) return;
    const code = (error as { code?: string }).code;
    if (error instanceof TimeoutSignal || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      this.settle({ kind: 'timeout' });
    } else if (code !== undefined && NEVER_SENT.has(code)) {
      this.settle({ kind: 'refused', message: `${code}: ${error.message}` });
    } else {
      this.settle({ kind: 'connection', message: `${code ?? error.name}: ${error.message}` });
    }
  }
}

export class Dispatcher {
  private readonly targets = new Map<string, Target>();
  /** Released pools still finishing their requests; shutdown cuts them like the others. */
  private readonly draining = new Set<Pool>();
  private readonly deadlines = new Deadlines();

  private target(endpointUrl: string): Target {
    let target = this.targets.get(endpointUrl);
    if (!target) {
      const url = new URL(endpointUrl);
      const base = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
      target = {
        // headersTimeout/bodyTimeout off: each attempt has its own deadline (AttemptHandler), which
        // also covers a stalled answer; undici's timers would only re-arm on every request and chunk.
        pool: new Pool(url.origin, {
          keepAliveTimeout: 30_000,
          pipelining: 1,
          headersTimeout: 0,
          bodyTimeout: 0,
          connect: { noDelay: true },
        }),
        path: `${base}/invoke`,
      };
      this.targets.set(endpointUrl, target);
    }
    return target;
  }

  send(endpointUrl: string, request: AttemptRequest, done: (result: AttemptResult) => void): AttemptHandle {
    const target = this.target(endpointUrl);
    const handler = new AttemptHandler(request.timeoutMs, this.deadlines, done);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [HEADERS.executionId]: request.executionId,
      [HEADERS.dispatchAttempt]: String(request.attempt),
    };
    if (request.traceId !== undefined) headers[HEADERS.traceId] = request.traceId;
    if (request.idempotencyKey !== undefined) headers[HEADERS.idempotencyKey] = request.idempotencyKey;
    target.pool.dispatch({ method: 'POST', path: target.path, headers, body: request.body }, handler);
    return handler;
  }

  /** Open pools, one per endpoint URL in use (for tests and diagnostics). */
  get poolCount(): number {
    return this.targets.size;
  }

  /**
   * Close the pools of endpoints no function uses any more (a replica respawned on another port,
   * a function deleted or moved). close(), not destroy(): requests already sent on them finish.
   */
  release(inUse: ReadonlySet<string>): void {
    for (const [url, target] of this.targets) {
      if (inUse.has(url)) continue;
      this.targets.delete(url);
      this.draining.add(target.pool);
      target.pool
        .close()
        .catch(() => undefined)
        .finally(() => this.draining.delete(target.pool));
    }
  }

  async close(): Promise<void> {
    const pools = [...this.targets.values()].map((t) => t.pool).concat([...this.draining]);
    this.targets.clear();
    this.draining.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
    this.deadlines.clear();
  }
}
