/**
 * The HTTP edge of both ports: one node:http server configuration that bounds what a client may
 * hold (headers and request timeouts, a connection cap), refuses what it must before any handler
 * runs (oversize declared bodies, requests while shutting down, HTTP/1.1 without Host, unknown
 * `Expect`), and answers everything node:http itself would answer (malformed HTTP, timeouts,
 * oversize headers) in the API's JSON error format `{error, message}`. Early answers close the
 * connection with a lingering close (./linger.ts), so a client still sending reads its answer
 * instead of a reset. Control-plane README, "HTTP edge", lists the limits and codes.
 */
import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { ErrorCode } from '../contracts/index.js';
import { ERROR_CODES } from '../contracts/index.js';
import { isLingering, linger, type LingerBounds } from './linger.js';

export interface EdgeOptions {
  /** Largest request body; a larger declared Content-Length is refused before the handler runs. */
  bodyLimitBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  /** True once the server is shutting down. */
  closing(): boolean;
  /**
   * While shutting down: 'refuse' answers 503 SHUTTING_DOWN (the API); 'serve' answers as usual
   * but closes the connection afterwards (management: probes and metrics stay readable while the
   * control plane drains).
   */
  whenClosing: 'refuse' | 'serve';
  /**
   * False when the handler never reads bodies (management): the edge then reads and discards any
   * body before dispatching, so a chunked body's size is checked and a stalled one times out like
   * on the API. The API's handlers read (and limit) their own bodies.
   */
  handlerReadsBodies: boolean;
}

/** How long idle keep-alive connections stay open (longer than common load-balancer idle timeouts). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Lingering close after an early answer: at most this long in all, and this long without a byte. */
export const LINGER_TOTAL_MS = 10_000;
export const LINGER_IDLE_MS = 5_000;
/** ... and at most this many more bytes: max(16 MiB, 4 × the body limit). */
export function lingerMaxBytes(bodyLimitBytes: number): number {
  return Math.max(16 * 1024 * 1024, 4 * bodyLimitBytes);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The parts of node:http's per-connection state the edge reads (stable since Node 18). */
type HttpSocket = Socket & {
  parser?: { incoming?: IncomingMessage | null } | null;
  _httpMessage?: ServerResponse | null;
};

function errorJson(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: code, message });
}

/** A JSON error through node:http's response (the parser is between messages, headers are ours to send). */
function answer(res: ServerResponse, code: ErrorCode, message: string): void {
  const body = errorJson(code, message);
  res.writeHead(ERROR_CODES[code], {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(body);
}

/** The same answer as raw bytes, for when the socket is mid-parse and no response object exists. */
function rawAnswer(code: ErrorCode, message: string): Buffer {
  const status = ERROR_CODES[code];
  const body = errorJson(code, message);
  return Buffer.from(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `cache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function createEdgeServer(handler: (req: IncomingMessage, res: ServerResponse) => void, options: EdgeOptions): Server {
  const limit = options.bodyLimitBytes;
  const bounds: LingerBounds = { maxBytes: lingerMaxBytes(limit), idleMs: LINGER_IDLE_MS, totalMs: LINGER_TOTAL_MS };
  // node refuses headersTimeout > requestTimeout; the body deadline covers the headers anyway.
  const headersTimeout = Math.min(options.headersTimeoutMs, options.requestTimeoutMs);
  const server = createServer({
    headersTimeout,
    requestTimeout: options.requestTimeoutMs,
    // Deadlines are checked on this tick; node's default (30 s) would let a stall outlive them by that much.
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headersTimeout / 4))),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Answered below in the JSON format instead of node's empty 400.
    requireHostHeader: false,
  });
  server.maxConnections = options.maxConnections;

  /** Answers and returns true when the request must not reach the handler. */
  const refused = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (options.closing()) {
      if (options.whenClosing === 'refuse') {
        answer(res, 'SHUTTING_DOWN', 'the control plane is shutting down');
        return true;
      }
      res.setHeader('connection', 'close');
    }
    const headers = req.headers;
    if (headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      answer(res, 'MALFORMED_REQUEST', 'an HTTP/1.1 request needs a Host header');
      return true;
    }
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > limit) {
      answer(res, 'PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`);
      return true;
    }
    return false;
  };

  const dispatch = options.handlerReadsBodies
    ? handler
    : (req: IncomingMessage, res: ServerResponse) => {
        const length = req.headers['content-length'];
        if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
          handler(req, res);
          return;
        }
        let received = 0;
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received <= limit) return;
          req.removeListener('data', onData);
          req.removeListener('end', onEnd);
          answer(res, 'PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`);
        };
        const onEnd = () => handler(req, res);
        req.on('data', onData);
        req.once('end', onEnd);
      };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!refused(req, res)) dispatch(req, res);
  });
  // Registering this keeps node from sending `100 Continue` on its own: a body we would refuse is never invited.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (refused(req, res)) return;
    res.writeContinue();
    dispatch(req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    if (refused(req, res)) return;
    answer(res, 'EXPECTATION_FAILED', `Expect: ${String(req.headers.expect).slice(0, 100)} is not supported; only 100-continue is`);
  });

  // node:http destroys the socket right after a `Connection: close` answer is sent (destroySoon).
  // If the request body is still arriving, linger instead.
  const destroySoon = function (this: HttpSocket): void {
    const incoming = this.parser?.incoming;
    if (incoming && !incoming.complete) linger(this, bounds, incoming);
    else Socket.prototype.destroySoon.call(this);
  };
  server.on('connection', (socket: Socket) => {
    socket.destroySoon = destroySoon;
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: HttpSocket) => {
    // The answer is out; these are parse errors on the bytes being discarded.
    if (isLingering(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // One answer per request: if this one's answer has started (or finished, with its body still
    // arriving), a second would corrupt the stream.
    const pending = socket._httpMessage;
    const incoming = socket.parser?.incoming;
    if (pending ? pending.headersSent : incoming != null && !incoming.complete) {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // The client went quiet: nothing to linger for.
      const what = incoming
        ? `the request body did not arrive within ${options.requestTimeoutMs} ms`
        : `the request headers did not arrive within ${headersTimeout} ms`;
      socket.write(rawAnswer('REQUEST_TIMEOUT', what));
      Socket.prototype.destroySoon.call(socket);
      return;
    }
    let code: ErrorCode = 'MALFORMED_REQUEST';
    let message = `malformed HTTP request (${err.code ?? 'parse error'}${(err as { reason?: string }).reason ? `: ${(err as { reason?: string }).reason}` : ''})`;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      code = 'HEADERS_TOO_LARGE';
      message = `the request line and headers are larger than ${maxHeaderSize} bytes`;
    } else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
      code = 'PAYLOAD_TOO_LARGE';
      message = 'the chunk extensions are too large';
    }
    socket.write(rawAnswer(code, message));
    // Already half-closed by the client (it ended mid-request): nothing more will come.
    if (socket.readableEnded) Socket.prototype.destroySoon.call(socket);
    else linger(socket, bounds);
  });
  return server;
}
