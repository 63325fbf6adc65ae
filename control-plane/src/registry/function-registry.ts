/**
 * Registered functions: the in-memory map, its persistence, and keeping the workload backend and
 * the invocation queues in step with it. Registration order: validate → provision → persist →
 * open the queue; a failed step leaves nothing half-registered.
 */
import type { FunctionSpec, FunctionSpecInput, FunctionView } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import type { BackendLogger } from '../workloads/backend.js';
import type { RoutedBackend } from '../workloads/index.js';
import { checkFunctionCount, checkReplicaTotal, replicaBudget, type RegistryLimits } from './limits.js';
import { resolveSpec, type SpecDefaults } from './resolve-spec.js';
import type { FunctionStore } from './store.js';

/**
 * What a failed provision or scale means to the API caller. Backends throw ApiErrors
 * (LaunchError, KubernetesBackendError, …): a spec the backend refused is the caller's to fix;
 * anything else, typed or not, means the backend cannot serve the function now.
 */
function backendFailure(err: unknown, action: string): ApiError {
  const message = `${action}: ${err instanceof Error ? err.message : String(err)}`;
  const specRefused = err instanceof ApiError && err.code === 'VALIDATION_ERROR';
  return new ApiError(specRefused ? 'VALIDATION_ERROR' : 'BACKEND_UNAVAILABLE', message);
}

/**
 * What the registry tells about function changes: the invoker's queues (and, in NATS mode, the
 * async consumers). `generation`: a change from the shared registry names the registration it
 * concerns (NATS mode, nats/registry-kv.ts); a local change concerns the current one.
 */
export interface FunctionQueues {
  upsertFunction(spec: FunctionSpec, generation?: string | undefined): void;
  removeFunction(name: string, generation?: string | undefined): void;
}

/** A registration, change or deletion made through another replica (NATS mode). */
export type RemoteChange =
  | { kind: 'put'; spec: FunctionSpec; generation?: string | undefined }
  | { kind: 'delete'; name: string; generation?: string | undefined };

const UNLIMITED: RegistryLimits = { maxFunctions: Number.MAX_SAFE_INTEGER, maxTotalReplicas: Number.MAX_SAFE_INTEGER };

export class FunctionRegistry {
  private readonly specs = new Map<string, FunctionSpec>();
  /** Replicas promised to scale-ups still waiting on the backend, so two of them cannot both pass the cap. */
  private pendingReplicas = 0;

  constructor(
    private readonly store: FunctionStore,
    private readonly backend: RoutedBackend,
    private readonly invoker: FunctionQueues,
    private readonly defaults: SpecDefaults,
    private readonly logger: BackendLogger,
    private readonly limits: RegistryLimits = UNLIMITED,
  ) {}

  /** Replicas claimed by every registered function, plus scale-ups in progress. */
  private replicasInUse(): number {
    let total = this.pendingReplicas;
    for (const spec of this.specs.values()) total += replicaBudget(spec);
    return total;
  }

  /** Load the stored functions and provision them again (start-up). Failures are logged, not fatal. */
  async restore(): Promise<number> {
    const stored = await this.store.load();
    for (const spec of stored) {
      this.specs.set(spec.name, spec);
      this.invoker.upsertFunction(spec);
    }
    await Promise.all(
      stored.map((spec) =>
        this.backend.provision(spec).catch((err: unknown) => {
          this.logger.error({ err, function: spec.name }, 'could not re-provision a stored function');
        }),
      ),
    );
    if (stored.length > this.limits.maxFunctions || this.replicasInUse() > this.limits.maxTotalReplicas) {
      // Kept, not dropped: the caps apply to new registrations and scale-ups only.
      this.logger.warn(
        { functions: stored.length, replicas: this.replicasInUse(), limits: this.limits },
        'the stored functions exceed NANOFAAS_MAX_FUNCTIONS or NANOFAAS_MAX_TOTAL_REPLICAS',
      );
    }
    return stored.length;
  }

  list(): FunctionSpec[] {
    return [...this.specs.values()];
  }

  get(name: string): FunctionSpec | undefined {
    return this.specs.get(name);
  }

  view(name: string): FunctionView {
    const spec = this.require(name);
    return { ...spec, status: this.backend.status(name) };
  }

  /**
   * The view once the function has left PENDING (READY, DEGRADED or FAILED), or after `waitMs`,
   * or when `signal` aborts (the caller hung up): a long-poll for "did it start?" that answers
   * on the backend's change event, not on a timer.
   */
  async settledView(name: string, waitMs: number, signal: AbortSignal): Promise<FunctionView> {
    const first = this.view(name);
    if (waitMs <= 0 || first.status.state !== 'PENDING' || signal.aborted) return first;
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, waitMs);
      const off = this.backend.onChange((changed) => {
        if (changed !== name) return;
        if (!this.specs.has(name) || this.backend.status(name).state !== 'PENDING') finish();
      });
      signal.addEventListener('abort', finish, { once: true });
    });
    return this.view(name);
  }

  private require(name: string): FunctionSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not registered`);
    return spec;
  }

  /**
   * NATS mode: another replica registered, changed or deleted a function (the shared registry's
   * watch). Applied like a local change, without the caps (they were checked where it was made)
   * and without saving it again. A provision failure is logged, as on restore.
   */
  async applyRemote(change: RemoteChange): Promise<void> {
    if (change.kind === 'delete') {
      if (!this.specs.delete(change.name)) return;
      this.invoker.removeFunction(change.name, change.generation);
      await this.backend.deprovision(change.name).catch((err: unknown) => {
        this.logger.error({ err, function: change.name }, 'could not deprovision a function deleted through another replica');
      });
      return;
    }
    const { spec } = change;
    const before = this.specs.get(spec.name);
    if (before && JSON.stringify(before) === JSON.stringify(spec)) return;
    this.specs.set(spec.name, spec);
    this.invoker.upsertFunction(spec, change.generation);
    const provisioned = before
      ? before.replicas !== spec.replicas
        ? this.backend.scale(spec.name, spec.replicas ?? 1)
        : undefined
      : this.backend.provision(spec);
    await provisioned?.catch((err: unknown) => {
      this.logger.error({ err, function: spec.name }, 'could not provision a function registered through another replica');
    });
  }

  async register(input: FunctionSpecInput): Promise<FunctionSpec> {
    if (this.specs.has(input.name)) throw new ApiError('FUNCTION_EXISTS', `function "${input.name}" already exists`);
    const spec = resolveSpec(input, this.defaults);
    const target = this.backend.backendFor(spec);
    if (!(await target.healthy().catch(() => false))) {
      const why = target.unavailableReason?.();
      throw new ApiError('BACKEND_UNAVAILABLE', `the ${target.name} backend is not available${why ? `: ${why}` : ''}`);
    }
    // Checked and claimed in one synchronous step after the last await, so two concurrent
    // registrations can neither take the same name nor both fit under a cap.
    if (this.specs.has(spec.name)) throw new ApiError('FUNCTION_EXISTS', `function "${spec.name}" already exists`);
    checkFunctionCount(this.limits, this.specs.size);
    checkReplicaTotal(this.limits, this.replicasInUse(), replicaBudget(spec), spec.name);
    this.specs.set(spec.name, spec);
    try {
      await this.backend.provision(spec);
    } catch (err) {
      this.specs.delete(spec.name);
      throw backendFailure(err, `could not provision "${spec.name}"`);
    }
    try {
      await this.persist();
    } catch (err) {
      this.specs.delete(spec.name);
      await this.backend.deprovision(spec.name).catch(() => undefined);
      throw err;
    }
    this.invoker.upsertFunction(spec);
    return spec;
  }

  async remove(name: string): Promise<void> {
    this.require(name);
    this.specs.delete(name);
    this.invoker.removeFunction(name);
    await this.persist();
    await this.backend.deprovision(name).catch((err: unknown) => {
      this.logger.error({ err, function: name }, 'could not deprovision a deleted function');
    });
  }

  async setReplicas(name: string, replicas: number): Promise<FunctionSpec> {
    const spec = this.require(name);
    const current = replicaBudget(spec);
    const wanted = replicaBudget({ ...spec, replicas });
    // Scaling down is always allowed, even when lowered caps are exceeded already.
    if (wanted > current) checkReplicaTotal(this.limits, this.replicasInUse() - current, wanted, name);
    const extra = Math.max(0, wanted - current);
    this.pendingReplicas += extra;
    try {
      await this.backend.scale(name, replicas);
    } catch (err) {
      throw backendFailure(err, `could not scale "${name}"`);
    } finally {
      this.pendingReplicas -= extra;
    }
    const updated = { ...spec, replicas };
    this.specs.set(name, updated);
    this.invoker.upsertFunction(updated);
    await this.persist();
    return updated;
  }

  private async persist(): Promise<void> {
    try {
      await this.store.save(this.list());
    } catch (err) {
      // A store's own answer (NATS mode: FUNCTION_EXISTS, the name taken through another replica).
      if (err instanceof ApiError) throw err;
      throw new ApiError('BACKEND_UNAVAILABLE', `could not save the function list: ${(err as Error).message}`);
    }
  }
}
