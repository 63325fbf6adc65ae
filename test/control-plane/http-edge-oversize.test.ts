/**
 * Every client that sends more than the body limit reads `413 PAYLOAD_TOO_LARGE`,
 * on both ports, with Content-Length, chunked and `Expect: 100-continue`, and is never reset
 * while it is still writing (the EPIPE that made hostile-input.test.ts flaky). 50 rounds per
 * client and mode with bodies 4 × the limit, plus 8 MB bodies.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, removeDir, startControlPlane, type RunningControlPlane } from './helpers.js';
import { chunked, head, openRaw, portOf, rawRequest, type RawResponse } from './http-edge-raw.js';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';
const LIMIT = 64 * 1024;
const ROUNDS = 50;
const BODY = Buffer.alloc(4 * LIMIT, 'a');
const HUGE = Buffer.alloc(8 * 1024 * 1024, 'b');

let cp: RunningControlPlane;
let dir: string;
let agent: Agent;

interface Target {
  port: string;
  url: string;
  paths: string[];
}
let targets: Target[];

beforeAll(async () => {
  cp = await startControlPlane({ NANOFAAS_WORKLOAD_BACKEND: 'pool', NANOFAAS_BODY_LIMIT_BYTES: String(LIMIT) });
  dir = mkdtempSync(join(tmpdir(), 'nanofaas-edge-'));
  writeFileSync(join(dir, 'body'), BODY);
  writeFileSync(join(dir, 'huge'), HUGE);
  agent = new Agent();
  targets = [
    // The fast-path candidate and a Fastify route; the management port takes no bodies at all.
    { port: 'API', url: cp.apiUrl, paths: ['/v1/functions/target:invoke', '/v1/functions'] },
    { port: 'management', url: cp.managementUrl, paths: ['/metrics', '/healthz'] },
  ];
});

afterAll(async () => {
  await agent?.close();
  await cp?.stop();
  if (cp) removeDir(cp.stateDir);
  if (dir) removeDir(dir);
});

function problem(label: string, status: number | undefined, json: any, extra = ''): string | undefined {
  if (status === 413 && json?.error === 'PAYLOAD_TOO_LARGE' && typeof json?.message === 'string') return undefined;
  return `${label}: ${status} ${JSON.stringify(json)} ${extra}`.slice(0, 300);
}

describe('oversized bodies always get their 413', () => {
  it(`undici, ${ROUNDS}× with Content-Length and ${ROUNDS}× chunked, on both ports`, async () => {
    const failures: string[] = [];
    let answered = 0;
    for (const target of targets) {
      for (let i = 0; i < ROUNDS; i++) {
        for (const mode of ['content-length', 'chunked'] as const) {
          const label = `${target.port} undici ${mode} #${i}`;
          // A stream body has no known length, so undici sends it chunked.
          const body = mode === 'chunked' ? Readable.from([BODY.subarray(0, LIMIT / 2), BODY.subarray(LIMIT / 2)]) : BODY;
          try {
            const answer = await request(`${target.url}${target.paths[i % 2]}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              dispatcher: agent,
            });
            const text = await answer.body.text();
            const failure = problem(label, answer.statusCode, JSON.parse(text));
            if (failure) failures.push(failure);
            else answered++;
          } catch (err) {
            failures.push(`${label}: ${(err as Error).message}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(answered).toBe(targets.length * ROUNDS * 2);
  });

  // One curl process makes ROUNDS transfers (one connection each: the 413 closes it); -D - puts
  // every response head on stdout, so a `100 Continue` would show.
  const curlModes: { mode: string; headers: string[]; continues: number }[] = [
    { mode: 'plain', headers: ['Expect:'], continues: 0 },
    { mode: 'Expect: 100-continue', headers: ['Expect: 100-continue'], continues: 0 },
    // No declared length: the edge invites the body and counts it.
    { mode: 'chunked', headers: ['Transfer-Encoding: chunked', 'Expect: 100-continue'], continues: ROUNDS },
  ];
  for (const { mode, headers, continues } of curlModes) {
    it(`curl ${mode}, ${ROUNDS}× on both ports`, async () => {
      for (const target of targets) {
        const urls = Array.from({ length: ROUNDS }, (_, i) => `${target.url}${target.paths[i % 2]}`);
        const args = [
          '-s',
          '-S',
          '-D',
          '-',
          '-X',
          'POST',
          '-H',
          'Content-Type: application/json',
          '--data-binary',
          `@${join(dir, 'body')}`,
        ];
        for (const h of headers) args.push('-H', h);
        args.push('-w', '\\nRESULT %{http_code} %{exitcode}\\n', ...urls);
        const { stdout, stderr } = await run(CURL, args, { maxBuffer: 16 * 1024 * 1024 });
        expect(stderr, `${target.port}`).toBe('');
        const results = [...stdout.matchAll(/^RESULT (\d+) (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
        expect(results, `${target.port} ${mode}`).toEqual(Array.from({ length: ROUNDS }, () => '413 0'));
        const bodies = [...stdout.matchAll(/^(\{.*\})$/gm)].map((m) => JSON.parse(m[1]!) as { error: string; message: unknown });
        expect(bodies.length).toBe(ROUNDS);
        for (const body of bodies) expect(body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
        expect(stdout.match(/^HTTP\/1\.1 100 /gm)?.length ?? 0, `${target.port} ${mode}: 100 Continue count`).toBe(continues);
      }
    });
  }

  it(`raw socket, ${ROUNDS}× Content-Length, chunked and Expect: 100-continue, on both ports; never reset while writing`, async () => {
    const failures: string[] = [];
    const check = (label: string, r: { responses: RawResponse[]; error: string | undefined; writeError: string | undefined }) => {
      const first = r.responses[0];
      const failure = problem(
        label,
        first?.status,
        first?.json,
        `error=${r.error} writeError=${r.writeError} responses=${r.responses.length}`,
      );
      if (failure || r.error || r.writeError || r.responses.length !== 1)
        failures.push(failure ?? `${label}: error=${r.error} writeError=${r.writeError} responses=${r.responses.length}`);
    };
    for (const target of targets) {
      const port = portOf(target.url);
      for (let i = 0; i < ROUNDS; i++) {
        const path = target.paths[i % 2]!;
        const json = { 'Content-Type': 'application/json' };
        check(
          `${target.port} raw content-length #${i}`,
          await rawRequest(port, head('POST', path, { ...json, 'Content-Length': BODY.length }), BODY),
        );
        check(
          `${target.port} raw chunked #${i}`,
          await rawRequest(port, head('POST', path, { ...json, 'Transfer-Encoding': 'chunked' }), chunked(BODY)),
        );

        // Declared too large: the answer is the 413 itself, with no 100 Continue before it.
        const conn = openRaw(port);
        await conn.write(head('POST', path, { ...json, 'Content-Length': BODY.length, Expect: '100-continue' }));
        const first = await conn.nextResponse();
        conn.end();
        const end = await conn.closed;
        check(`${target.port} raw expect #${i}`, { responses: conn.responses, error: end.error, writeError: undefined });
        if (first?.status === 100) failures.push(`${target.port} raw expect #${i}: 100 Continue before the refusal`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('raw socket, Expect: 100-continue with a chunked body: invited, then refused once over the limit', async () => {
    for (const target of targets) {
      const conn = openRaw(portOf(target.url));
      await conn.write(
        head('POST', target.paths[0]!, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', Expect: '100-continue' }),
      );
      const invitation = await conn.nextResponse();
      expect(invitation?.status, target.port).toBe(100);
      await conn.write(chunked(BODY));
      const answer = await conn.nextResponse();
      conn.end();
      const end = await conn.closed;
      expect(problem(target.port, answer?.status, answer?.json), target.port).toBeUndefined();
      expect(end.error, target.port).toBeUndefined();
    }
  });

  it('8 MB bodies: the whole body is accepted (discarded) and the 413 read, with every client', async () => {
    const failures: string[] = [];
    for (const target of targets) {
      const port = portOf(target.url);
      const path = target.paths[0]!;
      for (let i = 0; i < 3; i++) {
        const cl = await rawRequest(port, head('POST', path, { 'Content-Type': 'application/json', 'Content-Length': HUGE.length }), HUGE);
        if (cl.writeError || cl.error || problem('', cl.responses[0]?.status, cl.responses[0]?.json))
          failures.push(`${target.port} raw 8 MB: ${cl.responses[0]?.status} error=${cl.error} writeError=${cl.writeError}`);
        const te = await rawRequest(
          port,
          head('POST', path, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
          chunked(HUGE, 256 * 1024),
        );
        if (te.writeError || te.error || problem('', te.responses[0]?.status, te.responses[0]?.json))
          failures.push(`${target.port} raw chunked 8 MB: ${te.responses[0]?.status} error=${te.error} writeError=${te.writeError}`);
        try {
          const answer = await request(`${target.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: HUGE,
            dispatcher: agent,
          });
          const failure = problem(`${target.port} undici 8 MB`, answer.statusCode, JSON.parse(await answer.body.text()));
          if (failure) failures.push(failure);
        } catch (err) {
          failures.push(`${target.port} undici 8 MB: ${(err as Error).message}`);
        }
      }
      // curl adds Expect: 100-continue on its own for a body this size; the failing case.
      for (const expectHeader of ['Expect:', 'Expect: 100-continue']) {
        const urls = Array.from({ length: 3 }, () => `${target.url}${path}`);
        const { stdout } = await run(
          CURL,
          [
            '-s',
            '-S',
            '-X',
            'POST',
            '-H',
            'Content-Type: application/json',
            '-H',
            expectHeader,
            '--data-binary',
            `@${join(dir, 'huge')}`,
            '-w',
            '\\nRESULT %{http_code} %{exitcode}\\n',
            ...urls,
          ],
          { maxBuffer: 1024 * 1024 },
        );
        const results = [...stdout.matchAll(/^RESULT (\d+) (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
        if (results.join() !== '413 0,413 0,413 0') failures.push(`${target.port} curl 8 MB ${expectHeader}: ${results.join()}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('is alive afterwards', async () => {
    expect((await call(cp.apiUrl, 'GET', '/v1/functions')).status).toBe(200);
    expect((await call(cp.managementUrl, 'GET', '/healthz')).status).toBe(200);
    expect(cp.child.exitCode).toBeNull();
  });
});
