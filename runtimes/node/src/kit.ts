// Building blocks for other runtimes written in TypeScript (the watchdog): the §5 server and its parts.
export { createRuntimeServer, errorMessage, type Invocation, type InvocationResult, type Invoke, type RuntimeServer } from './server.js';
export { ConfigError, intFromEnv, serverConfigFromEnv, type ServerConfig } from './config.js';
export { createRuntimeMetrics, RUNTIME_METRICS, type Outcome, type RuntimeMetrics } from './metrics.js';
export { createLogger, levelFromEnv, type Logger } from './log.js';
export { failStartup, serveUntilSignalled } from './lifecycle.js';
export { RUNTIME_ERRORS, type RuntimeErrorCode } from './errors.js';
