/**
 * A stand-in control plane on 127.0.0.1 for the loadtest command tests: it lists the named
 * functions as the control plane would hold them, counts the invocations of each, and answers
 * them with `answer`, or else with the input's word count.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCatalog, specFor } from '../conformance/harness.js';

export interface Reply {
  status: number;
  body: unknown;
}

export interface StandIn {
  baseUrl: string;
  /** Invocations so far, by function name. */
  invoked: Record<string, number>;
  /** Every invocation answers this many ms late from now on (0: at once): a deliberately slower server. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
}

export async function startStandIn(
  names: readonly string[],
  answer: (fn: string, input: unknown) => Reply | undefined = () => undefined,
): Promise<StandIn> {
  const catalog = loadCatalog().functions;
  // A name outside the catalog stands for some other function the user registered.
  const specs = names.map((name) =>
    specFor(catalog.find((f) => f.name === name) ?? { name, runtime: 'node', handler: 'handler.js', spec: {} }),
  );
  const invoked: Record<string, number> = {};
  let delayMs = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = ({ status, body }: Reply) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/v1/functions') return send({ status: 200, body: specs });
      const m = /^\/v1\/functions\/([^/:]+):invoke$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        const fn = m[1] ?? '';
        invoked[fn] = (invoked[fn] ?? 0) + 1;
        const input = (JSON.parse(body) as { input: unknown }).input;
        const reply = answer(fn, input) ?? {
          status: 200,
          body: { executionId: 'x', status: 'success', output: { wordCount: wordCount(input) } },
        };
        if (delayMs > 0) setTimeout(() => send(reply), delayMs);
        else send(reply);
        return;
      }
      send({ status: 404, body: { error: 'NOT_FOUND', message: req.url } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invoked,
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function wordCount(input: unknown): number {
  return (input as { text: string }).text.split(' ').length;
}

/** The environment a loadtest run gets: the stand-in's URL, its own state directory, no Grafana, plain output. */
export function loadtestEnv(baseUrl: string, stateDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NANOFAAS_URL: baseUrl,
    NANOFAAS_STATE_DIR: stateDir,
    SKIP_GRAFANA: 'true',
    NO_COLOR: '1',
    CI: 'true',
  };
}
