import net from 'node:net';

/**
 * A port on 127.0.0.1 that was free a moment ago: bind port 0, read it, release it.
 * The child binds it next; if something else wins the race the child fails to listen,
 * exits, and the supervisor restarts it on a fresh port.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}
