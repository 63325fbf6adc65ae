/**
 * `node control-plane/dist/main.js`: start the control plane from the environment, print one
 * JSON line with the chosen ports (tests and the CLI parse it), shut down gracefully on signals.
 */
// First: V8 flags take effect for everything allocated after them.
import './gc-tuning.js';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createControlPlane } from './control-plane.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nanofaas control plane: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel });
  const controlPlane = await createControlPlane(config, logger);
  const listening = await controlPlane.start();
  // Written directly so it appears whatever the log level is.
  process.stdout.write(`${JSON.stringify({ msg: 'listening', pid: process.pid, backend: config.backend, ...listening })}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.warn({ signal }, 'shutting down');
    controlPlane.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`nanofaas control plane failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
