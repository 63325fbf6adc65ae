/**
 * Backends fail with ApiErrors, and the registry turns a failed provision or scale into the
 * API's answer by their code: a spec the backend refused is 400 VALIDATION_ERROR, anything else
 * 503 BACKEND_UNAVAILABLE, always naming the function and keeping the backend's reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import type { Dispatcher } from '../../control-plane/src/dispatch/dispatcher.js';
import { ApiError } from '../../control-plane/src/errors.js';
import { Invoker } from '../../control-plane/src/invocation/invoker.js';
import { FunctionRegistry } from '../../control-plane/src/registry/function-registry.js';
import type { FunctionStore } from '../../control-plane/src/registry/store.js';
import type { WorkloadBackend } from '../../control-plane/src/workloads/backend.js';
import { createBackend, type RoutedBackend } from '../../control-plane/src/workloads/index.js';
import { KubernetesBackendError } from '../../control-plane/src/workloads/kubernetes/errors.js';
import { createPoolBackend } from '../../control-plane/src/workloads/pool.js';
import { LaunchError } from '../../control-plane/src/workloads/process/launch.js';
import { invokerOptions } from './invoker-options.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const defaults = { timeoutMs: 5000, concurrency: 1, queueSize: 10, maxRetries: 0 };

class MemoryStore implements FunctionStore {
  saved: FunctionSpec[] = [];
  async load(): Promise<FunctionSpec[]> {
    return [];
  }
  async save(specs: FunctionSpec[]): Promise<void> {
    this.saved = specs;
  }
}

let invoker: Invoker | undefined;

afterEach(async () => {
  await invoker?.shutdown(0);
  invoker = undefined;
});

function registryOver(backend: RoutedBackend): { registry: FunctionRegistry; store: MemoryStore } {
  // Nothing is invoked here: the registry only opens and closes queues on it.
  invoker = new Invoker(invokerOptions({} as Dispatcher));
  const store = new MemoryStore();
  return { registry: new FunctionRegistry(store, backend, invoker, defaults, silent), store };
}

/** A working pool backend whose provision (and, once provisioned, scale) fails with `err`. */
function failingWith(err: unknown, when: 'provision' | 'scale'): RoutedBackend {
  const pool = createPoolBackend();
  const backend: WorkloadBackend = {
    ...pool,
    provision: when === 'provision' ? () => Promise.reject(err) : pool.provision,
    scale: when === 'scale' ? () => Promise.reject(err) : pool.scale,
  };
  return { ...backend, backendFor: () => backend };
}

async function failure(work: Promise<unknown>): Promise<ApiError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('backend failures through the registry', () => {
  it('the pool backend refuses a spec without endpointUrl: 400, and nothing is registered or saved', async () => {
    const { registry, store } = registryOver(
      createBackend({ kind: 'pool', namespace: 'default', rootDir: '.', stateDir: '.', logger: silent }),
    );
    const err = await failure(registry.register({ name: 'no-url' }));
    expect([err.code, err.status]).toEqual(['VALIDATION_ERROR', 400]);
    expect(err.message).toBe('could not provision "no-url": function "no-url" has no endpointUrl; the pool backend cannot serve it');
    expect(registry.list()).toEqual([]);
    expect(store.saved).toEqual([]);
  });

  it.each([
    [new LaunchError('VALIDATION_ERROR', 'unknown placeholder ${hanlder}'), 'VALIDATION_ERROR', 400],
    [new LaunchError('BACKEND_UNAVAILABLE', 'runtime "nope" has no launch descriptor'), 'BACKEND_UNAVAILABLE', 503],
    [new LaunchError('SHUTTING_DOWN', 'the process backend is shutting down'), 'BACKEND_UNAVAILABLE', 503],
    [new KubernetesBackendError('VALIDATION_ERROR', 'kubernetes rejected Deployment fn-x: bad', 422), 'VALIDATION_ERROR', 400],
    [new KubernetesBackendError('FUNCTION_EXISTS', 'conflict on Deployment fn-x: exists', 409), 'BACKEND_UNAVAILABLE', 503],
    [new Error('something no backend typed'), 'BACKEND_UNAVAILABLE', 503],
  ] as const)('provision failing with %s answers %s (%i), keeping the reason', async (thrown, code, status) => {
    const { registry } = registryOver(failingWith(thrown, 'provision'));
    const err = await failure(registry.register({ name: 'fn', endpointUrl: 'http://127.0.0.1:1' }));
    expect([err.code, err.status]).toEqual([code, status]);
    expect(err.message).toBe(`could not provision "fn": ${thrown.message}`);
    expect(registry.get('fn')).toBeUndefined();
  });

  it('a failed scale is mapped the same way and leaves the replica count as it was', async () => {
    const { registry } = registryOver(failingWith(new LaunchError('VALIDATION_ERROR', 'replicas out of range'), 'scale'));
    await registry.register({ name: 'fn', endpointUrl: 'http://127.0.0.1:1', replicas: 1 });
    const err = await failure(registry.setReplicas('fn', 3));
    expect([err.code, err.status, err.message]).toEqual(['VALIDATION_ERROR', 400, 'could not scale "fn": replicas out of range']);
    expect(registry.get('fn')?.replicas).toBe(1);
  });
});

describe('typed errors of the backends themselves', () => {
  it('LaunchError is an ApiError whose status comes from the code table', () => {
    const err = new LaunchError('TIMEOUT', 'not ready');
    expect(err).toBeInstanceOf(ApiError);
    expect([err.name, err.code, err.status]).toEqual(['LaunchError', 'TIMEOUT', 504]);
  });

  it('waitReady for a function no backend provisioned is FUNCTION_NOT_FOUND, from the router and from the pool', async () => {
    const routed = createBackend({ kind: 'pool', namespace: 'default', rootDir: '.', stateDir: '.', logger: silent });
    for (const backend of [routed, createPoolBackend()]) {
      const err = await failure(backend.waitReady('ghost', 10));
      expect([err.code, err.status]).toEqual(['FUNCTION_NOT_FOUND', 404]);
      expect(err.message).toBe('function "ghost" is not provisioned');
    }
  });
});
