#!/usr/bin/env node
// Node runtime entry: HANDLER module → §5 HTTP server on PORT.
import { performance } from 'node:perf_hooks';
import { serverConfigFromEnv } from './config.js';
import { handlerInvoker } from './handler-invoker.js';
import { failStartup, serveUntilSignalled } from './lifecycle.js';
import { loadHandler } from './load-handler.js';
import { createLogger, levelFromEnv } from './log.js';
import { createRuntimeMetrics } from './metrics.js';
import { createRuntimeServer } from './server.js';

const logger = createLogger('runtime-node', levelFromEnv(process.env.LOG_LEVEL));
try {
  const config = serverConfigFromEnv(process.env);
  const handler = await loadHandler(process.env.HANDLER, process.cwd());
  // performance.now() counts from process start, so this includes node's own boot.
  const initDurationMs = performance.now();
  const runtime = createRuntimeServer({
    config,
    invoke: handlerInvoker(handler, config.functionName),
    metrics: createRuntimeMetrics(config.functionName),
    logger,
    initDurationMs,
  });
  await serveUntilSignalled(runtime, logger, { function: config.functionName, handler: process.env.HANDLER });
} catch (err) {
  failStartup(logger, err);
}
