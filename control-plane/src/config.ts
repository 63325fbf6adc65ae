/**
 * Control-plane configuration, read once from the environment. Every variable has a documented
 * default (control-plane/README.md); a malformed value stops the start with a clear message
 * instead of silently falling back.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BackendKind = 'process' | 'kubernetes' | 'pool';

export interface Config {
  host: string;
  port: number;
  managementPort: number;
  logLevel: string;
  apiToken: string | undefined;
  bodyLimitBytes: number;
  stateDir: string;
  rootDir: string;
  backend: BackendKind;
  kubernetesNamespace: string;
  /** Base URL runtimes reach the control plane on (CALLBACK_URL); derived from the API port when unset. */
  publicUrl: string | undefined;
  defaults: { timeoutMs: number; concurrency: number; queueSize: number; maxRetries: number };
  admission: {
    enabled: boolean;
    maxEstimatedWaitMs: number;
    maxQueueWaitMs: number;
    retryAfterSeconds: number;
  };
  retry: { baseDelayMs: number; maxDelayMs: number };
  executionTtlMs: number;
  executionMaxRecords: number;
  idempotencyTtlMs: number;
  shutdownGraceMs: number;
  readyTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(env: Env, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${env[key]}"`);
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'NANOFAAS_PORT', 8080, 0, 65535);
  return {
    host: env.NANOFAAS_HOST?.trim() || '127.0.0.1',
    port,
    managementPort: int(env, 'NANOFAAS_MANAGEMENT_PORT', port === 0 ? 0 : 8081, 0, 65535),
    logLevel: oneOf(env, 'NANOFAAS_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'warn'),
    apiToken: env.NANOFAAS_API_TOKEN?.trim() || undefined,
    bodyLimitBytes: int(env, 'NANOFAAS_BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    stateDir: resolve(env.NANOFAAS_STATE_DIR?.trim() || '.nanofaas/control-plane'),
    rootDir: resolve(env.NANOFAAS_ROOT_DIR?.trim() || repoRoot),
    backend: oneOf(env, 'NANOFAAS_WORKLOAD_BACKEND', ['process', 'kubernetes', 'pool'] as const, 'process'),
    kubernetesNamespace: env.NANOFAAS_NAMESPACE?.trim() || 'nanofaas',
    publicUrl: env.NANOFAAS_PUBLIC_URL?.trim() || undefined,
    defaults: {
      timeoutMs: int(env, 'NANOFAAS_DEFAULT_TIMEOUT_MS', 30_000, 1, 900_000),
      concurrency: int(env, 'NANOFAAS_DEFAULT_CONCURRENCY', 4, 1, 1024),
      queueSize: int(env, 'NANOFAAS_DEFAULT_QUEUE_SIZE', 100, 0, 100_000),
      maxRetries: int(env, 'NANOFAAS_DEFAULT_MAX_RETRIES', 3, 0, 10),
    },
    admission: {
      enabled: bool(env, 'SYNC_QUEUE_ADMISSION_ENABLED', true),
      maxEstimatedWaitMs: int(env, 'SYNC_QUEUE_MAX_ESTIMATED_WAIT_MS', 2_000, 1),
      maxQueueWaitMs: int(env, 'SYNC_QUEUE_MAX_QUEUE_WAIT_MS', 5_000, 1),
      retryAfterSeconds: int(env, 'SYNC_QUEUE_RETRY_AFTER_SECONDS', 2, 1, 3600),
    },
    retry: {
      baseDelayMs: int(env, 'NANOFAAS_RETRY_BASE_DELAY_MS', 100, 1, 60_000),
      maxDelayMs: int(env, 'NANOFAAS_RETRY_MAX_DELAY_MS', 10_000, 1, 600_000),
    },
    executionTtlMs: int(env, 'NANOFAAS_EXECUTION_TTL_MS', 900_000, 1_000),
    executionMaxRecords: int(env, 'NANOFAAS_EXECUTION_MAX_RECORDS', 100_000, 100),
    idempotencyTtlMs: int(env, 'NANOFAAS_IDEMPOTENCY_TTL_MS', 900_000, 1_000),
    shutdownGraceMs: int(env, 'NANOFAAS_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    readyTimeoutMs: int(env, 'NANOFAAS_READY_TIMEOUT_MS', 60_000, 1),
  };
}
