/**
 * The invocation hot paths, served straight from node:http: `POST /v1/functions/{name}:invoke`
 * (sync) and `:enqueue` (async, in memory mode or NATS mode). Fastify costs about 20% of a forwarding hop's throughput, which
 * alone would use up the floor in BENCHMARKS.md (≥ 0.9 × a bare hop), and more than a third of
 * an enqueue's cost, so requests that are plainly well-formed (valid name, JSON content type, a
 * Content-Length, right token, no query string) are handled here. The HTTP edge (http/edge.ts)
 * runs first: oversize bodies and requests during shutdown never get here. Everything else falls
 * through to the Fastify routes, which stay registered (OpenAPI, inject(), and every unusual
 * request) — so both paths answer the same way: the same JSON parser, the same schema, the same
 * invoker and the same error mapping.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FUNCTION_NAME_PATTERN, HEADERS, InvocationRequest } from '../contracts/index.js';
import { ApiError, mapError } from '../errors.js';
import type { Execution } from '../invocation/executions.js';
import type { Invoker } from '../invocation/invoker.js';
import { scanJson } from '../invocation/json-scan.js';
import type { AsyncInvocations } from '../nats/nats-mode.js';
import { bearerMatches } from './auth.js';
import { invocationOptions } from './invocations.js';
import { syncAnswer } from './sync-answer.js';
import { inline } from './types.js';

type JsonParser = (req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => void;

export interface FastPathOptions {
  invoker: Invoker;
  bodyLimitBytes: number;
  apiToken: string | undefined;
  /** Fastify's own JSON parser (secure-json-parse, proto/constructor poisoning → error). */
  parseJson: JsonParser;
  /** NATS mode: `:enqueue` publishes to JetStream and answers 202 once it is stored (§3.12). */
  asyncInvocations?: AsyncInvocations | undefined;
}

const PREFIX = '/v1/functions/';
const INVOKE = ':invoke';
const ENQUEUE = ':enqueue';
const NAME = new RegExp(FUNCTION_NAME_PATTERN);
const JSON_TYPE = 'application/json; charset=utf-8';

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semicolon = value.indexOf(';');
  const essence = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  return essence === 'application/json';
}

/** Headers as one flat name, value, … list: node:http stores them without walking an object's keys. */
function sendJson(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  const headers: (string | number)[] = ['content-type', JSON_TYPE, 'content-length', Buffer.byteLength(body)];
  if (extra) for (const name in extra) headers.push(name, extra[name]!);
  res.writeHead(status, headers);
  res.end(body);
}

function sendError(res: ServerResponse, err: unknown): void {
  const mapped = mapError(err as Error);
  sendJson(res, mapped.status, JSON.stringify(mapped.body), mapped.headers);
}

/** The 202 of an accepted enqueue (the same bytes as the Fastify route's). */
function sendQueued(res: ServerResponse, id: string): void {
  const body = `{"executionId":"${id}","status":"queued"}`;
  res.writeHead(202, ['content-type', JSON_TYPE, 'content-length', Buffer.byteLength(body), HEADERS.executionId, id]);
  res.end(body);
}

function sendOutcome(res: ServerResponse, execution: Execution): void {
  const answer = syncAnswer(execution);
  sendJson(res, answer.status, answer.body, answer.headers);
}

/** Returns a request listener that handles the request (true) or declines it (false). */
export function createInvokeFastPath(options: FastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const check = TypeCompiler.Compile(inline(InvocationRequest));
  const expectedAuth = options.apiToken ? Buffer.from(`Bearer ${options.apiToken}`) : undefined;
  const { invoker, parseJson } = options;
  const shared = options.asyncInvocations;

  const authorized = (header: string | undefined): boolean => {
    return expectedAuth === undefined || bearerMatches(header, expectedAuth);
  };

  /** Throws what the Fastify route would answer for a body that is not a valid invocation request. */
  const parseAndCheck = (req: IncomingMessage, text: string): void => {
    let failure: Error | null = null;
    let body: unknown;
    parseJson(req, text, (err, value) => {
      failure = err;
      body = value;
    });
    if (failure) throw failure;
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      const path = first?.path || '/';
      throw new ApiError('VALIDATION_ERROR', `invalid body: ${path} ${first?.message ?? 'is invalid'}`, [
        { path, message: first?.message ?? 'invalid' },
      ]);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, name: string, text: string, sync: boolean): void => {
    try {
      // `{"input": <any JSON>}` with no member name the parser would refuse or filter is valid as
      // it is (the body is forwarded as text); anything else goes through the parser and the schema.
      const shape = scanJson(text);
      if (!shape?.onlyInput || shape.suspectKeys) parseAndCheck(req, text);
      const opts = invocationOptions(req.headers, sync);
      if (sync) {
        invoker.invoke(name, text, opts, (execution) => sendOutcome(res, execution));
      } else if (shared) {
        // NATS mode: 202 only once JetStream has stored the invocation; its refusals are ApiErrors.
        shared.enqueue(name, text, opts).then(
          (id) => sendQueued(res, id),
          (err: unknown) => sendError(res, err),
        );
      } else {
        sendQueued(res, invoker.enqueue(name, text, opts).id);
      }
    } catch (err) {
      sendError(res, err);
    }
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url;
    if (url === undefined || !url.startsWith(PREFIX)) return false;
    const sync = url.endsWith(INVOKE);
    if (!sync && !url.endsWith(ENQUEUE)) return false;
    const name = url.slice(PREFIX.length, url.length - (sync ? INVOKE.length : ENQUEUE.length));
    if (!NAME.test(name)) return false;
    const headers = req.headers;
    if (!isJsonContentType(headers['content-type'])) return false;
    const length = headers['content-length'];
    if (length === undefined || headers['transfer-encoding'] !== undefined) return false;
    // Already refused by the edge; kept so the fast path never buffers more than the limit on its own.
    if (Number(length) > options.bodyLimitBytes) return false;
    if (!authorized(headers.authorization)) return false;

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      handle(req, res, name, text, sync);
    });
    req.on('error', () => res.destroy());
    return true;
  };
}
