#!/usr/bin/env node
// Watchdog entry: runs WATCHDOG_CMD as a function behind the §5 HTTP contract.
import { performance } from 'node:perf_hooks';
import {
  createLogger,
  createRuntimeMetrics,
  createRuntimeServer,
  failStartup,
  levelFromEnv,
  serveUntilSignalled,
  serverConfigFromEnv,
} from '@nanofaas/runtime-node/kit';
import { watchdogConfigFromEnv } from './config.js';
import { createWatchdog } from './watchdog.js';

const logger = createLogger('watchdog', levelFromEnv(process.env.LOG_LEVEL));
try {
  const config = serverConfigFromEnv(process.env);
  const wd = watchdogConfigFromEnv(process.env);
  const watchdog = await createWatchdog(wd, process.env, logger);
  const runtime = createRuntimeServer({
    config,
    invoke: watchdog.invoke,
    metrics: createRuntimeMetrics(config.functionName),
    logger,
    initDurationMs: performance.now(),
    onClose: watchdog.close,
  });
  await serveUntilSignalled(runtime, logger, { function: config.functionName, mode: wd.mode, argv: wd.argv, concurrency: wd.concurrency });
} catch (err) {
  failStartup(logger, err);
}
