import { ConfigError } from './config.js';
import type { Logger } from './log.js';
import type { RuntimeServer } from './server.js';

/**
 * Listen, then on SIGTERM/SIGINT finish in-flight work and exit 0. A second signal exits at once.
 */
export async function serveUntilSignalled(runtime: RuntimeServer, logger: Logger, fields: Record<string, unknown>): Promise<void> {
  const port = await runtime.listen();
  logger('info', 'runtime listening', { port, ...fields });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger('info', 'shutting down', { signal });
    runtime.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger('error', 'shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Startup failure: one clear line, exit code 1 (the backend shows the log tail). */
export function failStartup(logger: Logger, err: unknown): never {
  logger('error', 'startup failed', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

/**
 * A malformed environment variable: exit 2 (usage) with one plain line naming it and the accepted
 * form. Plain, not JSON: LOG_LEVEL itself may be what is malformed.
 */
export function failConfig(component: string, err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${component}: ${err.message}\n`);
  process.exit(2);
}
