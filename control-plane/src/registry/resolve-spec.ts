/** Turning a client's FunctionSpecInput into a registered FunctionSpec with every default filled. */
import type { FunctionSpec, FunctionSpecInput } from '../contracts/index.js';
import { ApiError } from '../errors.js';

export interface SpecDefaults {
  timeoutMs: number;
  concurrency: number;
  queueSize: number;
  maxRetries: number;
}

/** A function served by the pool path: it names its own endpoint. */
export function isPoolSpec(spec: Pick<FunctionSpec, 'executionMode' | 'endpointUrl'>): boolean {
  return spec.executionMode === 'POOL' || spec.endpointUrl !== undefined;
}

export function resolveSpec(input: FunctionSpecInput, defaults: SpecDefaults): FunctionSpec {
  if (input.endpointUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(input.endpointUrl);
    } catch {
      throw new ApiError('VALIDATION_ERROR', 'endpointUrl is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ApiError('VALIDATION_ERROR', 'endpointUrl must be an http:// or https:// URL');
    }
    if (url.search || url.hash || url.username || url.password) {
      throw new ApiError('VALIDATION_ERROR', 'endpointUrl must not carry a query, fragment or credentials');
    }
  }
  if (input.executionMode === 'POOL' && input.endpointUrl === undefined) {
    throw new ApiError('VALIDATION_ERROR', 'executionMode POOL needs an endpointUrl');
  }
  const scaling = input.scalingConfig;
  if (scaling?.minReplicas !== undefined && scaling.maxReplicas !== undefined && scaling.minReplicas > scaling.maxReplicas) {
    throw new ApiError('VALIDATION_ERROR', 'scalingConfig.minReplicas must not exceed maxReplicas');
  }
  return {
    ...input,
    timeoutMs: input.timeoutMs ?? defaults.timeoutMs,
    concurrency: input.concurrency ?? defaults.concurrency,
    queueSize: input.queueSize ?? defaults.queueSize,
    maxRetries: input.maxRetries ?? defaults.maxRetries,
    runtimeMode: input.runtimeMode ?? 'HTTP',
    executionMode: input.executionMode ?? (input.endpointUrl !== undefined ? 'POOL' : 'DEPLOYMENT'),
    replicas: input.replicas ?? scaling?.minReplicas ?? 1,
  };
}
