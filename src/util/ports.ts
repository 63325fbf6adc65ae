import getPort from 'get-port';

const LOOPBACK = '127.0.0.1';

/**
 * `preferred` when it is free on 127.0.0.1, else any port free there now (for programs that cannot
 * listen on 0 and report back, like Prometheus). Racy by nature: someone may take it before use.
 */
export function freePort(preferred = 0): Promise<number> {
  return getPort({ host: LOOPBACK, ...(preferred !== 0 ? { port: preferred } : {}) });
}

/** The preferred port when free, else 0 (the program listens on any port and reports which). */
export async function preferPort(preferred: number): Promise<number> {
  return preferred !== 0 && (await freePort(preferred)) === preferred ? preferred : 0;
}
