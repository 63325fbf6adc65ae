#!/usr/bin/env node
// Node runtime entry: HANDLER module → HTTP server (docs/design.md §5) on PORT.
import { performance } from 'node:perf_hooks';
import { handlerFromEnv, processConfigFromEnv, serverConfigFromEnv, type ProcessConfig, type ServerConfig } from './config.js';
import { handlerInvoker } from './handler-invoker.js';
import { failConfig, failStartup, serveUntilSignalled } from './lifecycle.js';
import { loadHandler } from './load-handler.js';
import { createLogger } from './log.js';
import { createRuntimeMetrics } from './metrics.js';
import { dieWithParent } from './parent-pipe.js';
import { createRuntimeServer } from './server.js';

// The whole environment is validated before anything else happens (exit 2 on a malformed value).
let proc: ProcessConfig;
let config: ServerConfig;
let handlerPath: string;
try {
  proc = processConfigFromEnv(process.env);
  config = serverConfigFromEnv(process.env);
  handlerPath = handlerFromEnv(process.env);
} catch (err) {
  failConfig('runtime-node', err);
}
const logger = createLogger('runtime-node', proc.logLevel);
if (proc.dieWithParent) dieWithParent(logger);
try {
  const handler = await loadHandler(handlerPath, process.cwd());
  // performance.now() counts from process start, so this includes node's own boot.
  const initDurationMs = performance.now();
  const runtime = createRuntimeServer({
    config,
    invoke: handlerInvoker(handler, config.functionName),
    metrics: createRuntimeMetrics(config.functionName),
    logger,
    initDurationMs,
  });
  await serveUntilSignalled(runtime, logger, { function: config.functionName, handler: handlerPath });
} catch (err) {
  failStartup(logger, err);
}
