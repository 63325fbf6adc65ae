/** One JSON line per event on stderr; stdout stays free (the watchdog's children use it). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** `minLevel` comes from LOG_LEVEL, validated by processConfigFromEnv (config.ts). */
export function createLogger(component: string, minLevel: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const min = order[minLevel];
  return (level, msg, fields) => {
    if (order[level] < min) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  };
}
