import { createServer } from 'node:net';

/** Is 127.0.0.1:port free right now? (Racy by nature; callers fall back to port 0 on failure.) */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The preferred port when free, else 0 (let the OS choose). */
export async function preferPort(preferred: number): Promise<number> {
  return preferred !== 0 && (await portFree(preferred)) ? preferred : 0;
}

/** A free port number now (for programs that cannot listen on 0 and report back, like Prometheus). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
