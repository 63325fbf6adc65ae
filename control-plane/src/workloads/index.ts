/**
 * Backend selection. NANOFAAS_WORKLOAD_BACKEND picks the default backend (process by default);
 * a function whose spec names its own endpoint (executionMode POOL or endpointUrl) is served by
 * the pool backend whatever the default is. The router below presents both as one backend.
 */
import type { FunctionSpec, FunctionStatus } from '../contracts/index.js';
import type { BackendKind } from '../config.js';
import { ApiError } from '../errors.js';
import { isPoolSpec } from '../registry/resolve-spec.js';
import type { BackendOptions, Endpoint, WorkloadBackend } from './backend.js';
import { createDockerBackend } from './docker/index.js';
import { createKubernetesBackend } from './kubernetes/index.js';
import { createPoolBackend } from './pool.js';
import { FunctionUserError } from './process/function-user.js';
import { createProcessBackend } from './process/index.js';

export interface BackendSelection extends BackendOptions {
  kind: BackendKind;
  namespace: string;
  /** NATS mode: wraps the default backend so only the workload owner writes to a shared one (nats/workload-owner.ts). */
  wrapDefault?: (backend: WorkloadBackend) => WorkloadBackend;
}

/** Stands in for a default backend that could not be created: everything it is asked fails with 503. */
function unavailableBackend(kind: BackendKind, reason: string): WorkloadBackend {
  const fail = async (): Promise<never> => {
    throw new ApiError('BACKEND_UNAVAILABLE', `${kind} backend unavailable: ${reason}`);
  };
  return {
    name: kind,
    provision: fail,
    deprovision: async () => undefined,
    scale: fail,
    endpoints: () => [],
    status: () => ({ state: 'FAILED', replicas: 0, readyReplicas: 0, message: `${kind} backend unavailable: ${reason}` }),
    waitReady: fail,
    onChange: () => () => undefined,
    healthy: async () => false,
    close: async () => undefined,
  };
}

function createDefault(selection: BackendSelection): WorkloadBackend {
  const { kind, namespace, wrapDefault: _, ...options } = selection;
  try {
    if (kind === 'pool') return createPoolBackend();
    if (kind === 'kubernetes') return createKubernetesBackend({ ...options, namespace });
    if (kind === 'docker') return createDockerBackend(options);
    return createProcessBackend(options);
  } catch (err) {
    // A configuration the operator must fix (functions would run as the wrong user): refuse to start.
    if (err instanceof FunctionUserError) throw err;
    options.logger.error({ err }, `could not create the ${kind} backend`);
    return unavailableBackend(kind, (err as Error).message);
  }
}

export interface RoutedBackend extends WorkloadBackend {
  /** The backend that serves (or would serve) this spec. */
  backendFor(spec: FunctionSpec): WorkloadBackend;
}

export function createBackend(selection: BackendSelection): RoutedBackend {
  const fallback = selection.wrapDefault ? selection.wrapDefault(createDefault(selection)) : createDefault(selection);
  const pool = fallback.name === 'pool' ? fallback : createPoolBackend();
  const owner = new Map<string, WorkloadBackend>();
  const none: Endpoint[] = [];
  const backendFor = (spec: FunctionSpec) => (isPoolSpec(spec) ? pool : fallback);
  const backends = pool === fallback ? [pool] : [fallback, pool];

  return {
    name: fallback.name,
    backendFor,
    async provision(spec) {
      const target = backendFor(spec);
      const previous = owner.get(spec.name);
      await target.provision(spec);
      owner.set(spec.name, target);
      if (previous && previous !== target) await previous.deprovision(spec.name);
    },
    async deprovision(name) {
      const backend = owner.get(name);
      owner.delete(name);
      await backend?.deprovision(name);
    },
    async scale(name, replicas) {
      await owner.get(name)?.scale(name, replicas);
    },
    endpoints(name) {
      return owner.get(name)?.endpoints(name) ?? none;
    },
    status(name): FunctionStatus {
      const backend = owner.get(name);
      return backend ? backend.status(name) : { state: 'PENDING', replicas: 0, readyReplicas: 0, message: 'not provisioned yet' };
    },
    async waitReady(name, timeoutMs) {
      const backend = owner.get(name);
      if (!backend) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`);
      await backend.waitReady(name, timeoutMs);
    },
    onChange(listener) {
      const offs = backends.map((b) => b.onChange(listener));
      return () => {
        for (const off of offs) off();
      };
    },
    healthy() {
      return fallback.healthy();
    },
    async close() {
      await Promise.allSettled(backends.map((b) => b.close()));
    },
    // Present only when a backend scales on load, so the control plane reports nothing otherwise.
    ...(backends.some((b) => b.observeLoad)
      ? {
          observeLoad(name: string, load: { queueDepth: number; inFlight: number }) {
            owner.get(name)?.observeLoad?.(name, load);
          },
        }
      : {}),
  };
}
