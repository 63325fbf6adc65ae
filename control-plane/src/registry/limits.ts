/**
 * Global caps on what registrations may claim (config.limits), so one client cannot exhaust the
 * host: the number of functions and the replicas they may run in total. Refusals are 429
 * LIMIT_EXCEEDED naming the variable to raise.
 */
import type { FunctionSpec } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import { boundsFor } from '../workloads/kubernetes/scaler.js';
import { isPoolSpec } from './resolve-spec.js';

export interface RegistryLimits {
  /** NANOFAAS_MAX_FUNCTIONS */
  maxFunctions: number;
  /** NANOFAAS_MAX_TOTAL_REPLICAS */
  maxTotalReplicas: number;
}

/**
 * The replicas a function may run: its `replicas`, or, when the control plane scales it
 * (INTERNAL strategy), as many as the scaler may go up to. A pool function runs nothing here
 * (it names its own endpoint), so it takes none.
 */
export function replicaBudget(spec: FunctionSpec): number {
  if (isPoolSpec(spec)) return 0;
  const bounds = boundsFor(spec);
  return bounds ? Math.max(spec.replicas, bounds.max) : spec.replicas;
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function exceeded(message: string, limit: string, max: number, details: Record<string, number>): ApiError {
  return new ApiError('LIMIT_EXCEEDED', message, { limit, max, ...details });
}

export function checkFunctionCount(limits: RegistryLimits, registered: number): void {
  if (registered >= limits.maxFunctions) {
    throw exceeded(
      `NANOFAAS_MAX_FUNCTIONS=${limits.maxFunctions}: ${count(limits.maxFunctions, 'function is', 'functions are')} registered already; delete one or raise the cap`,
      'NANOFAAS_MAX_FUNCTIONS',
      limits.maxFunctions,
      { registered },
    );
  }
}

/** `inUse`: the budget of every other function; `wanted`: what this one asks for. */
export function checkReplicaTotal(limits: RegistryLimits, inUse: number, wanted: number, name: string): void {
  if (inUse + wanted > limits.maxTotalReplicas) {
    throw exceeded(
      `NANOFAAS_MAX_TOTAL_REPLICAS=${limits.maxTotalReplicas}: "${name}" asks for ${count(wanted, 'replica', 'replicas')} and ${inUse} ${inUse === 1 ? 'is' : 'are'} taken by other functions`,
      'NANOFAAS_MAX_TOTAL_REPLICAS',
      limits.maxTotalReplicas,
      { requested: wanted, inUse },
    );
  }
}
