/**
 * The pool backend: the function's runtime already runs somewhere (spec.endpointUrl); nothing is
 * provisioned and the one endpoint is taken as ready. Lets users and tests point a function at
 * any HTTP server that speaks the runtime contract.
 */
import type { FunctionSpec, FunctionStatus } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import type { Endpoint, WorkloadBackend } from './backend.js';

export function createPoolBackend(): WorkloadBackend {
  const functions = new Map<string, { endpoints: Endpoint[]; replicas: number }>();
  const listeners = new Set<(name: string) => void>();
  const notify = (name: string) => {
    for (const listener of listeners) listener(name);
  };
  const none: Endpoint[] = [];

  return {
    name: 'pool',
    async provision(spec: FunctionSpec) {
      if (!spec.endpointUrl) {
        throw new ApiError('VALIDATION_ERROR', `function "${spec.name}" has no endpointUrl; the pool backend cannot serve it`);
      }
      functions.set(spec.name, { endpoints: [{ url: spec.endpointUrl, ready: true }], replicas: spec.replicas });
      notify(spec.name);
    },
    async deprovision(name: string) {
      if (functions.delete(name)) notify(name);
    },
    async scale(name: string, replicas: number) {
      const fn = functions.get(name);
      if (fn) fn.replicas = replicas;
    },
    endpoints(name: string) {
      return functions.get(name)?.endpoints ?? none;
    },
    status(name: string): FunctionStatus {
      const fn = functions.get(name);
      if (!fn) return { state: 'FAILED', replicas: 0, readyReplicas: 0, message: 'not provisioned' };
      return { state: 'READY', replicas: 1, readyReplicas: 1, message: `external endpoint ${fn.endpoints[0]?.url}` };
    },
    async waitReady(name: string) {
      if (!functions.has(name)) throw new ApiError('FUNCTION_NOT_FOUND', `function "${name}" is not provisioned`);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async healthy() {
      return true;
    },
    async close() {
      functions.clear();
    },
  };
}
