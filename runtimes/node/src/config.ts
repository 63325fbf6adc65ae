/**
 * Env parsing shared by the node runtime and the watchdog. Every variable is read once, before
 * anything starts; a malformed value is a ConfigError whose message names the variable and the
 * accepted form, and the program exits 2 with that one line (see lifecycle.ts `failConfig`).
 */
import type { LogLevel } from './log.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** setTimeout's largest delay; a bigger TIMEOUT_MS would fire at once instead of never. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The value, trimmed; unset and blank both mean "use the default". */
function rawValue(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

export function intFromEnv(env: Env, name: string, fallback: number, min = 0, max = MAX_TIMER_MS): number {
  const raw = rawValue(env, name);
  if (raw === undefined) return fallback;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer ${min}-${max}, got "${env[name]}"`);
  }
  return value;
}

export function portFromEnv(env: Env, name: string, fallback: number): number {
  try {
    return intFromEnv(env, name, fallback, 0, 65535);
  } catch {
    throw new ConfigError(`${name} must be an integer port 0-65535, got "${env[name]}"`);
  }
}

export function oneOfFromEnv<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = rawValue(env, name);
  if (raw === undefined) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (found === undefined) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${env[name]}"`);
  return found;
}

/** An http(s) base URL without trailing slashes. */
export function urlFromEnv(env: Env, name: string): string | undefined {
  const raw = rawValue(env, name);
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new ConfigError(
      `${name} must be an http(s) URL without query or fragment, e.g. http://127.0.0.1:8080/v1/internal/executions, got "${raw}"`,
    );
  }
  return raw.replace(/\/+$/, '');
}

/** A credential sent in a header: visible ASCII, no spaces (so it cannot split or fold a header). */
export function tokenFromEnv(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  // The value itself is never echoed: it is a secret.
  if (!/^[\x21-\x7e]+$/.test(raw))
    throw new ConfigError(`${name} must be visible ASCII characters without spaces (a bearer token), got a value that is not`);
  return raw;
}

/** A listen address: an IP literal or a host name. */
export function hostFromEnv(env: Env, name: string, fallback: string): string {
  const raw = rawValue(env, name);
  if (raw === undefined) return fallback;
  if (!/^[A-Za-z0-9.:_-]+$/.test(raw))
    throw new ConfigError(`${name} must be an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0, got "${env[name]}"`);
  return raw;
}

/** Settings every runtime server reads (docs/design.md §5.1). */
export interface ServerConfig {
  functionName: string;
  port: number;
  host: string;
  timeoutMs: number;
  callbackUrl: string | undefined;
  /** CALLBACK_TOKEN: sent as `Authorization: Bearer …` on every callback. */
  callbackToken: string | undefined;
  maxBodyBytes: number;
  /** How long SIGTERM waits for in-flight invocations before exiting anyway. */
  shutdownGraceMs: number;
}

export function serverConfigFromEnv(env: Env): ServerConfig {
  const timeoutMs = intFromEnv(env, 'TIMEOUT_MS', 30_000, 1);
  return {
    functionName: rawValue(env, 'FUNCTION_NAME') ?? 'function',
    port: portFromEnv(env, 'PORT', 8080),
    host: hostFromEnv(env, 'HOST', '127.0.0.1'),
    timeoutMs,
    callbackUrl: urlFromEnv(env, 'CALLBACK_URL'),
    callbackToken: tokenFromEnv(env, 'CALLBACK_TOKEN'),
    maxBodyBytes: intFromEnv(env, 'MAX_BODY_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    shutdownGraceMs: intFromEnv(env, 'SHUTDOWN_GRACE_MS', Math.min(timeoutMs, 30_000), 0),
  };
}

/** How the process itself runs, apart from its server. */
export interface ProcessConfig {
  logLevel: LogLevel;
  /**
   * NANOFAAS_PARENT_PIPE=stdin: stdin is a pipe the control plane holds open; its EOF means the
   * control plane is gone and this process (with everything it started) must go too.
   */
  dieWithParent: boolean;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function processConfigFromEnv(env: Env): ProcessConfig {
  return {
    logLevel: oneOfFromEnv(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    dieWithParent: parentPipeFromEnv(env),
  };
}

function parentPipeFromEnv(env: Env): boolean {
  const raw = rawValue(env, 'NANOFAAS_PARENT_PIPE');
  if (raw === undefined) return false;
  if (raw !== 'stdin') throw new ConfigError(`NANOFAAS_PARENT_PIPE must be "stdin" or unset, got "${env.NANOFAAS_PARENT_PIPE}"`);
  return true;
}

/** HANDLER for the node runtime: required; loading it is load-handler.ts's job. */
export function handlerFromEnv(env: Env): string {
  const handler = rawValue(env, 'HANDLER');
  if (handler === undefined)
    throw new ConfigError('HANDLER must be the path of the handler module, e.g. HANDLER=dist/handler.js, got nothing');
  return handler;
}
