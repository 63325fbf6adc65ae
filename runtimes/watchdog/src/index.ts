// Library surface of the watchdog, for tests and embedders; the program is dist/main.js.
export { parseCommand, watchdogConfigFromEnv, type ExecutionMode, type WatchdogConfig } from './config.js';
export { createLimiter, type Limiter } from './limiter.js';
export { createWatchdog, type Watchdog } from './watchdog.js';
export { commandEnv, EXIT_INVALID_INPUT, WATCHDOG_ONLY_ENV } from './results.js';
