// Building blocks for other runtimes written in TypeScript (the watchdog): the server of docs/design.md §5 and its parts.
export { createRuntimeServer, errorMessage, type Invocation, type InvocationResult, type Invoke, type RuntimeServer } from './server.js';
export {
  ConfigError,
  hostFromEnv,
  intFromEnv,
  oneOfFromEnv,
  portFromEnv,
  processConfigFromEnv,
  serverConfigFromEnv,
  tokenFromEnv,
  urlFromEnv,
  type ProcessConfig,
  type ServerConfig,
} from './config.js';
export { createRuntimeMetrics, RUNTIME_METRICS, type Outcome, type RuntimeMetrics } from './metrics.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { failConfig, failStartup, serveUntilSignalled } from './lifecycle.js';
export { dieWithParent, killOwnGroup } from './parent-pipe.js';
export { RUNTIME_ERRORS, type RuntimeErrorCode } from './errors.js';
