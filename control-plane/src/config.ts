/**
 * Control-plane configuration, read once from the environment. Every variable has a documented
 * default (control-plane/README.md); a malformed value stops the start with a clear message
 * instead of silently falling back.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { operatorSettingsFromEnv } from './workloads/process/launch.js';

export type BackendKind = 'process' | 'kubernetes' | 'pool' | 'docker';

/** Every NANOFAAS_WORKLOAD_BACKEND value, in the order messages list them. */
export const BACKEND_KINDS: readonly BackendKind[] = ['process', 'kubernetes', 'pool', 'docker'];

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
  /** The HTTP edge of both ports: how long a client may take to send a request, and how many may be connected. */
  http: {
    /** NANOFAAS_HEADERS_TIMEOUT_MS: headers must arrive within this (408 REQUEST_TIMEOUT). */
    headersTimeoutMs: number;
    /** NANOFAAS_REQUEST_TIMEOUT_MS: the whole request, body included, must arrive within this (408). */
    requestTimeoutMs: number;
    /** NANOFAAS_MAX_CONNECTIONS: open connections per port; past it new ones are refused. */
    maxConnections: number;
  };
  /** Global caps, so one request cannot exhaust the host (429/400 naming the cap). */
  limits: {
    /** NANOFAAS_MAX_FUNCTIONS */
    maxFunctions: number;
    /** NANOFAAS_MAX_TOTAL_REPLICAS: sum of `replicas` over every registered function. */
    maxTotalReplicas: number;
    /** NANOFAAS_MAX_LIVE_EXECUTIONS: queued + running executions over all functions. */
    maxLiveExecutions: number;
  };
  /** NANOFAAS_INSECURE: allow a non-loopback bind without a token. */
  insecure: boolean;
  /** The process backend's knobs. */
  process: {
    /** NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS: how long a replica may take to answer /health. */
    startupTimeoutMs: number;
    /** NANOFAAS_PROCESS_STOP_GRACE_MS: SIGTERM → SIGKILL grace period. */
    stopGraceMs: number;
    /**
     * NANOFAAS_FUNCTION_USER: who function processes run as. Unset: `nobody` when the control plane
     * runs as root, otherwise the control plane's own user. `inherit` keeps the control plane's user.
     * A user name or `uid[:gid]`.
     */
    functionUser: string | undefined;
    /** NANOFAAS_PYTHON, NANOFAAS_JAVA (those set): interpreters launch descriptors read as ${operator:NAME}. */
    operatorSettings: Record<string, string>;
  };
  /** The docker backend's settings; `owner` is set only when NANOFAAS_WORKLOAD_BACKEND=docker. */
  docker: DockerConfig;
  /**
   * NATS mode (docs/design.md §3.12): set only when NANOFAAS_NATS_URL is. Async invocations,
   * execution records, idempotency keys and the registry then live in NATS JetStream.
   */
  nats?: NatsConfig;
}

export interface NatsConfig {
  /** NANOFAAS_NATS_URL, e.g. nats://127.0.0.1:4222. */
  url: string;
  /** NANOFAAS_NATS_DUPLICATE_WINDOW_MS: how long the server drops a repeated Idempotency-Key publish. */
  duplicateWindowMs: number;
  /** NANOFAAS_NATS_ACK_WAIT_SLACK_MS: added to a function's timeoutMs for its consumer's ack_wait. */
  ackWaitSlackMs: number;
}

export interface DockerConfig {
  /** NANOFAAS_DOCKER_SOCKET, else DOCKER_HOST=unix://…, else /var/run/docker.sock. */
  socketPath: string;
  /** NANOFAAS_DOCKER_OWNER: the dev.nanofaas.owner label of every container this control plane creates. */
  owner: string | undefined;
  /** NANOFAAS_DOCKER_USER: uid[:gid] function containers run as (never root). */
  user: string;
  /** NANOFAAS_DOCKER_STARTUP_TIMEOUT_MS: how long a container may take to answer /health. */
  startupTimeoutMs: number;
  /** NANOFAAS_DOCKER_STOP_GRACE_MS: SIGTERM → SIGKILL grace period of a container. */
  stopGraceMs: number;
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

/**
 * The API token: NANOFAAS_API_TOKEN_FILE (preferred: the secret never enters any process
 * environment) or NANOFAAS_API_TOKEN. Both at once is ambiguous and refused.
 */
function apiToken(env: Env): string | undefined {
  const file = env.NANOFAAS_API_TOKEN_FILE?.trim();
  const inline = env.NANOFAAS_API_TOKEN?.trim();
  if (file && inline) throw new ConfigError('set NANOFAAS_API_TOKEN or NANOFAAS_API_TOKEN_FILE, not both');
  if (!file) return inline || undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `NANOFAAS_API_TOKEN_FILE must name a readable file, got "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  const token = text.trim();
  if (token === '') throw new ConfigError(`NANOFAAS_API_TOKEN_FILE names an empty file: "${file}"`);
  return token;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

function functionUser(env: Env): string | undefined {
  const raw = env.NANOFAAS_FUNCTION_USER?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^(inherit|[a-z_][a-z0-9_-]{0,31}|\d+(:\d+)?)$/i.test(raw)) {
    throw new ConfigError(`NANOFAAS_FUNCTION_USER must be a user name, uid[:gid] or "inherit", got "${raw}"`);
  }
  return raw;
}

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The Engine's unix socket. With the docker backend, a DOCKER_HOST that is not unix:// (tcp, ssh)
 * is refused rather than ignored; other backends never use it.
 */
function dockerSocket(env: Env, backend: BackendKind): string {
  const explicit = env.NANOFAAS_DOCKER_SOCKET?.trim();
  if (explicit) return resolve(explicit);
  const dockerHost = env.DOCKER_HOST?.trim();
  if (!dockerHost) return DEFAULT_DOCKER_SOCKET;
  if (!dockerHost.startsWith('unix://') || dockerHost.length === 'unix://'.length) {
    if (backend !== 'docker') return DEFAULT_DOCKER_SOCKET;
    throw new ConfigError(
      `DOCKER_HOST=${dockerHost} is not a unix socket: the docker backend talks to the Engine over unix:// only; set NANOFAAS_DOCKER_SOCKET to the socket's path`,
    );
  }
  return resolve(dockerHost.slice('unix://'.length));
}

function natsConfig(env: Env): NatsConfig | undefined {
  const url = env.NANOFAAS_NATS_URL?.trim();
  if (!url) return undefined;
  if (!/^(nats|tls):\/\/[^\s/]+$/.test(url)) {
    // Echoed without its credentials (nats://user:pass@host).
    const shown = url.replace(/\/\/.*@/, '//***@');
    throw new ConfigError(`NANOFAAS_NATS_URL must be nats://[user:pass@]host:port (or tls://), got "${shown}"`);
  }
  return {
    url,
    duplicateWindowMs: int(env, 'NANOFAAS_NATS_DUPLICATE_WINDOW_MS', 120_000, 1_000, 86_400_000),
    ackWaitSlackMs: int(env, 'NANOFAAS_NATS_ACK_WAIT_SLACK_MS', 5_000, 100, 600_000),
  };
}

function dockerConfig(env: Env, backend: BackendKind): DockerConfig {
  const owner = env.NANOFAAS_DOCKER_OWNER?.trim() || undefined;
  if (owner !== undefined && !/^[a-z0-9-]{1,40}$/.test(owner)) {
    throw new ConfigError(`NANOFAAS_DOCKER_OWNER must be 1-40 characters of a-z, 0-9 and "-", got "${owner}"`);
  }
  if (backend === 'docker' && owner === undefined) {
    throw new ConfigError(
      'NANOFAAS_WORKLOAD_BACKEND=docker needs NANOFAAS_DOCKER_OWNER (1-40 characters of a-z, 0-9 and "-"): every function container is labelled with it, and only containers with this label are ever removed',
    );
  }
  const user = env.NANOFAAS_DOCKER_USER?.trim() || '10001:10001';
  const ids = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!ids) throw new ConfigError(`NANOFAAS_DOCKER_USER must be uid[:gid] (numbers), got "${user}"`);
  if (Number(ids[1]) === 0 || ids[2] === '0') {
    throw new ConfigError(`NANOFAAS_DOCKER_USER must not be root (uid or gid 0), got "${user}"`);
  }
  return {
    socketPath: dockerSocket(env, backend),
    owner,
    user,
    startupTimeoutMs: int(env, 'NANOFAAS_DOCKER_STARTUP_TIMEOUT_MS', 60_000, 1, 3_600_000),
    stopGraceMs: int(env, 'NANOFAAS_DOCKER_STOP_GRACE_MS', 5_000, 0, 600_000),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'NANOFAAS_PORT', 8080, 0, 65535);
  const host = env.NANOFAAS_HOST?.trim() || '127.0.0.1';
  const token = apiToken(env);
  const insecure = bool(env, 'NANOFAAS_INSECURE', false);
  // The API runs programs for whoever reaches it: reachable from elsewhere means a token.
  if (!isLoopbackHost(host) && token === undefined && !insecure) {
    throw new ConfigError(
      `NANOFAAS_HOST=${host} is reachable from other machines: set NANOFAAS_API_TOKEN_FILE (or NANOFAAS_API_TOKEN), or NANOFAAS_INSECURE=true to run without auth`,
    );
  }
  const backend = oneOf(env, 'NANOFAAS_WORKLOAD_BACKEND', BACKEND_KINDS, 'process');
  return {
    host,
    port,
    managementPort: int(env, 'NANOFAAS_MANAGEMENT_PORT', port === 0 ? 0 : 8081, 0, 65535),
    logLevel: oneOf(env, 'NANOFAAS_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'warn'),
    apiToken: token,
    bodyLimitBytes: int(env, 'NANOFAAS_BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    stateDir: resolve(env.NANOFAAS_STATE_DIR?.trim() || '.nanofaas/control-plane'),
    rootDir: resolve(env.NANOFAAS_ROOT_DIR?.trim() || repoRoot),
    backend,
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
    http: {
      headersTimeoutMs: int(env, 'NANOFAAS_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestTimeoutMs: int(env, 'NANOFAAS_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      maxConnections: int(env, 'NANOFAAS_MAX_CONNECTIONS', 4096, 1, 1_000_000),
    },
    limits: {
      maxFunctions: int(env, 'NANOFAAS_MAX_FUNCTIONS', 256, 1, 100_000),
      maxTotalReplicas: int(env, 'NANOFAAS_MAX_TOTAL_REPLICAS', 64, 1, 100_000),
      maxLiveExecutions: int(env, 'NANOFAAS_MAX_LIVE_EXECUTIONS', 10_000, 1, 10_000_000),
    },
    insecure,
    process: {
      startupTimeoutMs: int(env, 'NANOFAAS_PROCESS_STARTUP_TIMEOUT_MS', 30_000, 1, 3_600_000),
      stopGraceMs: int(env, 'NANOFAAS_PROCESS_STOP_GRACE_MS', 5_000, 0, 600_000),
      functionUser: functionUser(env),
      operatorSettings: operatorSettingsFromEnv(env),
    },
    docker: dockerConfig(env, backend),
    ...natsField(env),
  };
}

/** Absent, not undefined, without NANOFAAS_NATS_URL: configs compared whole stay as they were. */
function natsField(env: Env): { nats?: NatsConfig } {
  const nats = natsConfig(env);
  return nats ? { nats } : {};
}
