/**
 * The bare forwarding hop the control plane is measured against: node:http in, one undici Pool
 * out, none of the features. The floor any Node gateway pays. Usage: tsx bench/cp-hop.ts <target-url>
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:8080');
const pool = new Pool(target.origin, { keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({ method: 'POST', path: '/invoke', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
      .then(async (upstream) => {
        const body = await upstream.body.text();
        res.writeHead(upstream.statusCode, { 'content-type': 'application/json' }).end(body);
      })
      .catch(() => res.writeHead(502).end());
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', pid: process.pid, port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
