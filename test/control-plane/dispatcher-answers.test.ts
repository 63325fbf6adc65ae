// How the dispatcher reads a runtime's answer: it scans undici's raw response headers itself
// (dispatch/dispatcher.ts), so header names must match in any case, repeated or unrelated
// headers must not confuse it, and an answer over the size limit must end as a failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AttemptResult, Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';

const servers: Server[] = [];
const dispatchers: Dispatcher[] = [];

afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A runtime that answers every request with these raw header lines and body. */
async function runtime(status: number, headerLines: string[], body: string | Buffer): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // Raw lines keep the names' case exactly as a runtime written in another language might send them.
      const head = [`HTTP/1.1 ${status} X`, ...headerLines, `Content-Length: ${Buffer.byteLength(body)}`, '', ''].join('\r\n');
      res.socket?.write(head);
      res.socket?.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(url: string): Promise<AttemptResult> {
  const dispatcher = new Dispatcher();
  dispatchers.push(dispatcher);
  return new Promise((resolve) => {
    dispatcher.send(
      url,
      { body: '{"input":1}', executionId: 'e-1', traceId: undefined, idempotencyKey: undefined, attempt: 1, timeoutMs: 5_000 },
      resolve,
    );
  });
}

describe('dispatcher: reading the runtime answer', () => {
  it('finds Content-Type and X-Cold-Start in any case', async () => {
    const url = await runtime(200, ['CONTENT-TYPE: Application/JSON', 'X-Cold-Start: true', 'X-Other: json'], '{"ok":1}');
    expect(await send(url)).toEqual({ kind: 'ok', status: 200, body: '{"ok":1}', json: true, coldStart: true });
  });

  it('a text answer is not JSON and a warm one is not cold, whatever other headers say', async () => {
    const url = await runtime(200, ['content-type: text/plain', 'x-note: x-cold-start', 'x-cold-start: false'], 'plain words');
    expect(await send(url)).toEqual({ kind: 'ok', status: 200, body: 'plain words', json: false, coldStart: false });
  });

  it('maps 4xx to rejected, 504 to timeout and 5xx to failed, keeping the body', async () => {
    expect(await send(await runtime(422, ['content-type: application/json'], '{"error":"BAD"}'))).toEqual({
      kind: 'rejected',
      status: 422,
      body: '{"error":"BAD"}',
    });
    expect(await send(await runtime(504, [], ''))).toEqual({ kind: 'timeout' });
    expect(await send(await runtime(500, [], 'boom'))).toEqual({ kind: 'failed', status: 500, body: 'boom' });
  });

  it('an answer over 16 MiB ends as a failure (502), not a buffered body', async () => {
    const url = await runtime(200, ['content-type: application/json'], Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(await send(url)).toEqual({ kind: 'failed', status: 502, body: '' });
  });

  it('a refused connection is "refused" (nothing was sent)', async () => {
    const url = await runtime(200, [], '');
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const result = await send(url);
    expect(result.kind).toBe('refused');
  });
});
