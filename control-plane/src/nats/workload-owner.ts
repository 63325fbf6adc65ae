/**
 * NATS mode with several replicas: exactly one replica acts on a SHARED workload backend
 * (kubernetes: every replica sees the same Deployments and Services). docs/design.md §3.12.
 *
 * The acting replica holds a lease: key `workloads` in KV bucket `nanofaas_leases`, whose
 * `max_age` is the lease TTL, so a key nobody renews disappears TTL after its last write. A
 * replica takes the lease with `create` (fails while the key exists), renews it with
 * `update(key, value, revision)` every TTL/3 (fails when anyone else wrote it since), and counts
 * itself owner only until TTL after it *sent* its last successful write. The server expires the
 * key no sooner than TTL after it *stored* that write, so two replicas never both count themselves
 * owner; a lost connection ends ownership by the clock alone, with nobody to ask.
 *
 * The gate (gateWorkloads) sits between the registry and the shared backend: it remembers what
 * the registry wants (every replica's registry knows every function, through the registry watch)
 * and passes provision/scale/deprovision and load reports through only while this replica is the
 * owner. A replica that becomes owner reconciles: it provisions every function it knows with its
 * current spec (kubernetes provisioning is create-or-replace, so what exists is replaced, not
 * duplicated). Reads (endpoints, status, waitReady, onChange) always go to the backend: the
 * kubernetes backend learns every managed Deployment from its watch, so a non-owner serves sync
 * calls through the Service the owner created without writing anything.
 *
 * Not gated, per replica: process (a replica's runtimes are its own child processes and die with
 * it) and docker (containers are found through the Engine of the host and this replica's owner
 * label; each replica needs its own NANOFAAS_DOCKER_OWNER) and pool (nothing to create).
 *
 * Imports no NATS module as a value (only types): it is loaded with the rest of src/nats/.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import type { FunctionSpec } from '../contracts/index.js';
import type { BackendLogger, WorkloadBackend } from '../workloads/backend.js';
import { deploymentFor, serviceFor } from '../workloads/kubernetes/manifests.js';
import type { NatsClient } from './client.js';

export const LEASE_BUCKET = 'nanofaas_leases';
export const WORKLOADS_LEASE_KEY = 'workloads';
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** How long a shutdown waits for the lease's release before leaving it to expire. */
const RELEASE_WAIT_MS = 1_000;

/** The three KV operations the lease needs (a real KV, or a fake in unit tests). */
export interface LeaseStore {
  /** Writes the key only if it does not exist; resolves with the new revision, rejects otherwise. */
  create(holder: string): Promise<number>;
  /** Writes the key only if its revision is still `revision`; rejects otherwise. */
  update(holder: string, revision: number): Promise<number>;
  /** Deletes the key only if its revision is still `revision` (a graceful hand-over). */
  release(revision: number): Promise<void>;
  /** The bucket's max_age: how long a key lives after its last write (ms). */
  readonly ttlMs: number;
}

/** The lease in NATS KV (bucket max_age = ttlMs; an existing bucket keeps its own max_age, which is then used). */
export async function openKvLeaseStore(client: NatsClient, ttlMs: number): Promise<LeaseStore> {
  const kv = await client.kvm.create(LEASE_BUCKET, { history: 1, ttl: ttlMs });
  const bucketTtl = (await kv.status()).ttl;
  const encoder = new TextEncoder();
  return {
    ttlMs: bucketTtl > 0 ? bucketTtl : ttlMs,
    create: (holder) => kv.create(WORKLOADS_LEASE_KEY, encoder.encode(holder)),
    update: (holder, revision) => kv.update(WORKLOADS_LEASE_KEY, encoder.encode(holder), revision),
    release: (revision) => kv.delete(WORKLOADS_LEASE_KEY, { previousSeq: revision }),
  };
}

/** A replica id for the lease value: host, pid and a random part (two replicas in one process differ). */
export function replicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export interface WorkloadOwnerLeaseOptions {
  store: LeaseStore;
  holder: string;
  /** Injected clock (ms). */
  now?: () => number;
  logger?: Pick<BackendLogger, 'info' | 'warn'>;
}

/**
 * The lease policy. `tick()` is one attempt (take or renew); `start()` runs it every TTL/3 and
 * re-checks the clock when the lease would run out, so listeners hear about a loss even while a
 * renewal hangs. Unit tests drive `tick()` and `check()` with their own clock.
 */
export class WorkloadOwnerLease {
  /** Revision of this replica's last successful write; undefined when it holds nothing. */
  private revision: number | undefined;
  private heldUntil = Number.NEGATIVE_INFINITY;
  private owner = false;
  private ticking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<(owner: boolean) => void>();
  private readonly now: () => number;

  constructor(private readonly options: WorkloadOwnerLeaseOptions) {
    this.now = options.now ?? Date.now;
  }

  get holder(): string {
    return this.options.holder;
  }

  get ttlMs(): number {
    return this.options.store.ttlMs;
  }

  /** Owner now: the last successful write was sent less than TTL ago. */
  isOwner(): boolean {
    return this.owner;
  }

  onChange(listener: (owner: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One attempt: renew what this replica holds, or take a free lease. Never rejects. */
  tick(): Promise<void> {
    // Attempts never overlap: a hung renewal must not be raced by a create of our own.
    this.ticking ??= this.attempt().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.now();
    const store = this.options.store;
    try {
      this.revision = this.revision === undefined ? await store.create(this.holder) : await store.update(this.holder, this.revision);
      this.heldUntil = sentAt + store.ttlMs;
    } catch {
      // Taken by someone else, or NATS did not answer. A renewal that failed keeps its revision
      // while the clock still says held (a blip must not hand the lease over): nobody can have
      // taken a key that has not expired yet, and the clock ends ownership in any case. Past
      // that, this replica holds nothing until a create succeeds.
      if (this.now() >= this.heldUntil) {
        this.revision = undefined;
        this.heldUntil = Number.NEGATIVE_INFINITY;
      }
    }
    if (this.stopped) {
      // Stopped while this write was on its way: hand back what it took (best effort).
      if (this.revision !== undefined) store.release(this.revision).catch(() => undefined);
      this.revision = undefined;
      return;
    }
    this.check();
  }

  /** Re-evaluates ownership against the clock and tells listeners when it changed. */
  check(): void {
    const owner = !this.stopped && this.revision !== undefined && this.now() < this.heldUntil;
    if (owner && this.timer) {
      clearTimeout(this.expiry);
      this.expiry = setTimeout(() => this.check(), Math.max(0, this.heldUntil - this.now()));
      this.expiry.unref();
    }
    if (owner === this.owner) return;
    this.owner = owner;
    this.options.logger?.info(
      { holder: this.holder, owner },
      owner ? 'this replica now acts on the workload backend' : 'this replica no longer acts on the workload backend',
    );
    for (const l of this.listeners) l(owner);
  }

  /** Takes the lease if free (first attempt awaited), then keeps renewing or retrying every TTL/3. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.tick(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    await this.tick();
  }

  /**
   * Stops renewing; a held lease is deleted so another replica can take it at its next attempt.
   * Bounded (RELEASE_WAIT_MS): with NATS unreachable a shutdown does not wait for it, and the
   * lease simply expires.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.expiry);
    this.stopped = true;
    const revision = this.revision;
    this.revision = undefined;
    this.check();
    if (revision === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RELEASE_WAIT_MS);
    });
    const released = this.options.store.release(revision).catch((err: unknown) => {
      this.options.logger?.warn({ err: String(err) }, 'could not release the workload lease; it expires on its own');
    });
    await Promise.race([released, gaveUp]);
    clearTimeout(timer);
  }
}

/** The switch the gate follows: set by the lease. */
export interface WorkloadRole {
  isOwner(): boolean;
  onChange(listener: (owner: boolean) => void): () => void;
}

/**
 * Backends every replica sees the same workloads of, so only the owner may write to them; each
 * with the checks its provision makes before any I/O, so a non-owner refuses the same specs (400)
 * the owner would, instead of accepting one the owner then fails to provision.
 */
export const SHARED_BACKENDS: ReadonlyMap<WorkloadBackend['name'], (spec: FunctionSpec) => void> = new Map([
  [
    'kubernetes',
    (spec: FunctionSpec) => {
      // The manifests are pure; building them throws the backend's VALIDATION_ERROR.
      deploymentFor(spec, { namespace: 'validation' });
      serviceFor(spec, { namespace: 'validation' });
    },
  ],
]);

/**
 * Wraps a shared backend so only the owner writes to it (see the file comment). Any other
 * backend is returned unchanged.
 */
export function gateWorkloads(inner: WorkloadBackend, role: WorkloadRole, logger: BackendLogger): WorkloadBackend {
  const validate = SHARED_BACKENDS.get(inner.name);
  if (!validate) return inner;
  /** What the registry wants, kept whether or not this replica acts on it. */
  const desired = new Map<string, FunctionSpec>();

  const reconcile = async (): Promise<void> => {
    const specs = [...desired.values()];
    await Promise.all(
      specs.map((spec) =>
        inner.provision(spec).catch((err: unknown) => {
          logger.error({ err: String(err), function: spec.name }, 'new workload owner could not provision a function');
        }),
      ),
    );
    logger.info({ functions: specs.length }, 'workload owner reconciled the backend');
  };
  role.onChange((owner) => {
    if (owner) void reconcile();
  });

  return {
    name: inner.name,
    async provision(spec) {
      if (!role.isOwner()) validate(spec);
      desired.set(spec.name, spec);
      if (role.isOwner()) await inner.provision(spec);
    },
    async deprovision(name) {
      desired.delete(name);
      if (role.isOwner()) await inner.deprovision(name);
    },
    async scale(name, replicas) {
      const spec = desired.get(name);
      if (spec) desired.set(name, { ...spec, replicas });
      if (role.isOwner()) await inner.scale(name, replicas);
    },
    endpoints: (name) => inner.endpoints(name),
    status: (name) => inner.status(name),
    waitReady: (name, timeoutMs) => inner.waitReady(name, timeoutMs),
    onChange: (listener) => inner.onChange(listener),
    healthy: () => inner.healthy(),
    ...(inner.unavailableReason ? { unavailableReason: () => inner.unavailableReason?.() } : {}),
    close: () => inner.close(),
    ...(inner.observeLoad
      ? {
          // Only the owner's scaler acts, and only on this replica's reports.
          observeLoad(name: string, load: { queueDepth: number; inFlight: number }) {
            if (role.isOwner()) inner.observeLoad?.(name, load);
          },
        }
      : {}),
  };
}

/** A role that can be switched later (the lease needs NATS, the backend is built before it). */
export function switchableRole(): WorkloadRole & { follow(lease: WorkloadRole): () => void } {
  let owner = false;
  const listeners = new Set<(owner: boolean) => void>();
  const set = (next: boolean): void => {
    if (next === owner) return;
    owner = next;
    for (const l of listeners) l(next);
  };
  return {
    isOwner: () => owner,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    follow(lease) {
      set(lease.isOwner());
      return lease.onChange(set);
    },
  };
}

/** `nanofaas_workload_owner`: 1 while this replica acts on the shared workload backend, else 0. */
export function registerOwnerGauge(registry: Registry, role: WorkloadRole): void {
  new Gauge({
    name: 'nanofaas_workload_owner',
    help: 'NATS mode: 1 while this replica holds the workload lease (it alone writes to a shared workload backend), else 0',
    registers: [registry],
    collect() {
      this.set(role.isOwner() ? 1 : 0);
    },
  });
}

/** Opens the lease bucket, makes `role` follow the lease and takes it if free (first attempt awaited). */
export async function startWorkloadOwner(
  client: NatsClient,
  role: ReturnType<typeof switchableRole>,
  options: { ttlMs: number; logger: BackendLogger },
): Promise<WorkloadOwnerLease> {
  const lease = new WorkloadOwnerLease({
    store: await openKvLeaseStore(client, options.ttlMs),
    holder: replicaId(),
    logger: options.logger,
  });
  role.follow(lease);
  await lease.start();
  return lease;
}
