import type { Invoke, Logger } from '@nanofaas/runtime-node/kit';
import type { WatchdogConfig } from './config.js';
import { createLimiter } from './limiter.js';
import { commandEnv } from './results.js';
import type { Executor } from './modes/executor.js';
import { httpExecutor } from './modes/http.js';
import { fileExecutor, stdioExecutor } from './modes/one-shot.js';
import { streamExecutor } from './modes/stream.js';

export interface Watchdog {
  invoke: Invoke;
  close(): Promise<void>;
}

/**
 * The executor for EXECUTION_MODE, behind the WATCHDOG_CONCURRENCY bound. Commands get `env`
 * without the watchdog's own secrets and contracts (commandEnv).
 */
export async function createWatchdog(config: WatchdogConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<Watchdog> {
  const base = { argv: config.argv, env: commandEnv(env), maxOutputBytes: config.maxOutputBytes, logger };
  const executor: Executor =
    config.mode === 'STDIO'
      ? stdioExecutor({ ...base, prespawn: config.prespawn })
      : config.mode === 'FILE'
        ? fileExecutor(base)
        : config.mode === 'STREAM'
          ? streamExecutor(base)
          : await httpExecutor(base);
  const limiter = createLimiter(config.concurrency);
  return {
    invoke: (inv) => limiter.run(() => executor.invoke(inv), inv.signal),
    close: () => executor.close(),
  };
}
