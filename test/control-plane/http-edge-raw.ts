/**
 * A raw TCP HTTP/1.1 client for the HTTP edge tests: writes exactly the bytes given (broken HTTP,
 * stalled bodies, Expect without a body), parses every response that comes back (1xx included)
 * and reports how the connection ended, so a test can tell an answer from a reset.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Parsed JSON body, if it is JSON. */
  json: any;
}

export interface RawEnd {
  /** Socket error code (ECONNRESET, EPIPE…), if the connection ended with one. */
  error: string | undefined;
  /** Every byte received, for failure messages. */
  received: string;
}

export interface RawConnection {
  socket: Socket;
  /** Writes and resolves once the kernel took the bytes; rejects with the write error. */
  write(data: string | Buffer): Promise<void>;
  /** The next complete response (in arrival order), or undefined if the connection closed first. */
  nextResponse(): Promise<RawResponse | undefined>;
  /** Every response parsed so far. */
  responses: RawResponse[];
  end(): void;
  /** Resolves on 'close'. */
  closed: Promise<RawEnd>;
}

/** One response off the front of `buffer`, or undefined while it is incomplete (`atEnd`: the connection closed). */
function parseOne(buffer: Buffer, atEnd: boolean): { response: RawResponse; rest: Buffer } | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const lines = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = headEnd + 4;
  let body: Buffer;
  let end: number;
  if (status < 200 || status === 204 || status === 304) {
    body = Buffer.alloc(0);
    end = start;
  } else if (headers['transfer-encoding'] === 'chunked') {
    const pieces: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
      if (buffer.length < lineEnd + 2 + size + 2) return undefined;
      pieces.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
    body = Buffer.concat(pieces);
    end = at;
  } else if (headers['content-length'] !== undefined) {
    end = start + Number(headers['content-length']);
    if (buffer.length < end) return undefined;
    body = buffer.subarray(start, end);
  } else {
    // Delimited by the close of the connection.
    if (!atEnd) return undefined;
    body = buffer.subarray(start);
    end = buffer.length;
  }
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { response: { status, headers, body: text, json }, rest: buffer.subarray(end) };
}

export function openRaw(port: number): RawConnection {
  const socket = connect({ port, host: '127.0.0.1' });
  const responses: RawResponse[] = [];
  const waiters: ((r: RawResponse | undefined) => void)[] = [];
  let delivered = 0;
  let pending: Buffer = Buffer.alloc(0);
  let all = '';
  let error: string | undefined;
  let isClosed = false;
  const deliver = () => {
    while (waiters.length > 0 && delivered < responses.length) waiters.shift()!(responses[delivered++]);
    if (isClosed) while (waiters.length > 0) waiters.shift()!(undefined);
  };
  const parse = (atEnd: boolean) => {
    for (let parsed = parseOne(pending, atEnd); parsed; parsed = parseOne(pending, atEnd)) {
      responses.push(parsed.response);
      pending = parsed.rest;
    }
  };
  socket.on('data', (chunk: Buffer) => {
    all += chunk.toString('latin1');
    pending = Buffer.concat([pending, chunk]);
    parse(false);
    deliver();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= err.code ?? err.message;
  });
  const closed = new Promise<RawEnd>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      parse(true);
      deliver();
      resolve({ error, received: all });
    }),
  );
  return {
    socket,
    responses,
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        socket.write(data, (err) => (err ? reject(err) : resolve()));
      }),
    nextResponse: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        deliver();
      }),
    end: () => socket.end(),
    closed,
  };
}

/** One request, all bytes written, then the write side closed; resolves with what came back. */
export async function rawRequest(
  port: number,
  ...parts: (string | Buffer)[]
): Promise<RawEnd & { responses: RawResponse[]; writeError: string | undefined }> {
  const conn = openRaw(port);
  let writeError: string | undefined;
  try {
    for (const part of parts) await conn.write(part);
  } catch (err) {
    writeError = (err as NodeJS.ErrnoException).code ?? String(err);
  }
  conn.end();
  const end = await conn.closed;
  return { ...end, responses: conn.responses, writeError };
}

/** Content-Length request head. */
export function head(method: string, path: string, headers: Record<string, string | number> = {}): string {
  let text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** A body in chunked transfer encoding, in chunks of `size` bytes. */
export function chunked(body: Buffer, size = 16 * 1024): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

export const portOf = (url: string) => Number(new URL(url).port);
