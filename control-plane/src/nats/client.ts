/**
 * The NATS connection of a control plane in NATS mode (NANOFAAS_NATS_URL). The client packages
 * are imported here with dynamic import() only, and every other module takes their types with
 * `import type`, so a control plane without NANOFAAS_NATS_URL never loads them.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export interface NatsClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kvm: Kvm;
  /** The modules themselves, for their enums and header factory (loaded with the connection). */
  readonly jetstreamModule: typeof import('@nats-io/jetstream');
  readonly transportModule: typeof import('@nats-io/transport-node');
  readonly kvModule: typeof import('@nats-io/kv');
  /** Drains subscriptions and closes the connection. */
  close(): Promise<void>;
}

export interface NatsClientOptions {
  url: string;
  /** Shown in the server's connection list (`nanofaas-cp-<pid>`). */
  name?: string;
  /** How long to try the first connection before giving up (ms). */
  connectTimeoutMs?: number;
}

/**
 * The client takes credentials as options and refuses them inside `servers` (the server then
 * answers "Authorization Violation"), so `nats://user:pass@host` and `nats://token@host` are split
 * here. The credentials go nowhere else: not into the connection name, not into logs.
 */
export function serverAndCredentials(url: string): { servers: string; user?: string; pass?: string; token?: string } {
  const parsed = new URL(url);
  if (!parsed.username) return { servers: url };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  const servers = `${parsed.protocol}//${parsed.host}`;
  return pass ? { servers, user, pass } : { servers, token: user };
}

export async function connectNats(options: NatsClientOptions): Promise<NatsClient> {
  const [transport, jetstreamModule, kvModule] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@nats-io/kv'),
  ]);
  const nc = await transport.connect({
    ...serverAndCredentials(options.url),
    name: options.name ?? `nanofaas-cp-${process.pid}`,
    timeout: options.connectTimeoutMs ?? 5_000,
    // A restarting server is waited for, not given up on: queued work lives there.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // No Error (with its stack) captured up front for every request and its timer: that was an
    // eighth of an enqueue's CPU; a failed request still carries the error's own stack.
    noAsyncTraces: true,
  });
  const js = jetstreamModule.jetstream(nc);
  const jsm = await jetstreamModule.jetstreamManager(nc);
  const kvm = new kvModule.Kvm(js);
  return {
    nc,
    js,
    jsm,
    kvm,
    jetstreamModule,
    transportModule: transport,
    kvModule,
    async close() {
      if (nc.isClosed()) return;
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Milliseconds → the nanoseconds JetStream configs are written in. */
export const nanos = (ms: number): number => Math.round(ms * 1_000_000);
