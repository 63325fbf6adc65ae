#!/usr/bin/env node
// Watchdog entry: runs WATCHDOG_CMD as a function behind the HTTP contract of docs/design.md §5.
import { performance } from 'node:perf_hooks';
import {
  createLogger,
  createRuntimeMetrics,
  createRuntimeServer,
  dieWithParent,
  failConfig,
  failStartup,
  processConfigFromEnv,
  serveUntilSignalled,
  serverConfigFromEnv,
  type ProcessConfig,
  type ServerConfig,
} from '@nanofaas/runtime-node/kit';
import { watchdogConfigFromEnv, type WatchdogConfig } from './config.js';
import { createWatchdog } from './watchdog.js';

// The whole environment is validated before anything else happens (exit 2 on a malformed value).
let proc: ProcessConfig;
let config: ServerConfig;
let wd: WatchdogConfig;
try {
  proc = processConfigFromEnv(process.env);
  config = serverConfigFromEnv(process.env);
  wd = watchdogConfigFromEnv(process.env);
} catch (err) {
  failConfig('watchdog', err);
}
const logger = createLogger('watchdog', proc.logLevel);
// Commands share the watchdog's process group, so losing the control plane takes them too.
if (proc.dieWithParent) dieWithParent(logger);
try {
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
