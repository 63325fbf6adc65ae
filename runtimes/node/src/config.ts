/** Env parsing shared by the node runtime and the watchdog; bad values fail at startup, loudly. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

/** Settings every runtime server reads (DESIGN.md §5). */
export interface ServerConfig {
  functionName: string;
  port: number;
  host: string;
  timeoutMs: number;
  callbackUrl: string | undefined;
  maxBodyBytes: number;
  /** How long SIGTERM waits for in-flight invocations before exiting anyway. */
  shutdownGraceMs: number;
}

export function serverConfigFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const timeoutMs = intFromEnv(env, 'TIMEOUT_MS', 30_000, 1);
  return {
    functionName: env.FUNCTION_NAME || 'function',
    port: intFromEnv(env, 'PORT', 8080),
    host: env.HOST || '127.0.0.1',
    timeoutMs,
    callbackUrl: env.CALLBACK_URL ? env.CALLBACK_URL.replace(/\/+$/, '') : undefined,
    maxBodyBytes: intFromEnv(env, 'MAX_BODY_BYTES', 10 * 1024 * 1024, 1),
    shutdownGraceMs: intFromEnv(env, 'SHUTDOWN_GRACE_MS', Math.min(timeoutMs, 30_000)),
  };
}
