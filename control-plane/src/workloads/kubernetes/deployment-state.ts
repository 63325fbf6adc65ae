import type { V1Deployment } from '@kubernetes/client-node';
import type { FunctionStatus } from '../../contracts/index.js';
import { FUNCTION_LABEL } from './manifests.js';

/** What the backend remembers of one function's Deployment (from list/watch, never fetched per call). */
export interface DeploymentState {
  desired: number;
  ready: number;
  /** Set when the rollout is stuck (ProgressDeadlineExceeded) or pods cannot be created. */
  failure?: string;
}

export function functionNameOf(d: V1Deployment): string | undefined {
  return d.metadata?.labels?.[FUNCTION_LABEL];
}

export function stateOf(d: V1Deployment): DeploymentState {
  const conditions = d.status?.conditions ?? [];
  const stuck = conditions.find(
    (c) => (c.type === 'Progressing' && c.status === 'False') || (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  return {
    desired: d.spec?.replicas ?? 1,
    ready: d.status?.readyReplicas ?? 0,
    ...(stuck ? { failure: `${stuck.reason ?? stuck.type}: ${stuck.message ?? ''}`.trim() } : {}),
  };
}

export function isReady(s: DeploymentState | undefined): boolean {
  return (s?.ready ?? 0) >= 1;
}

/** Function status for GET /v1/functions/{name}: READY needs every desired replica, ≥ 1 ready is DEGRADED. */
export function statusOf(s: DeploymentState | undefined): FunctionStatus {
  if (!s) return { state: 'PENDING', replicas: 0, readyReplicas: 0, message: 'no Deployment seen yet' };
  const base = { replicas: s.desired, readyReplicas: s.ready };
  if (s.failure && s.ready === 0) return { state: 'FAILED', ...base, message: s.failure };
  if (s.desired === 0) return { state: 'PENDING', ...base, message: 'scaled to zero replicas' };
  if (s.ready >= s.desired) return { state: 'READY', ...base };
  if (s.ready >= 1) return { state: 'DEGRADED', ...base, message: `${s.ready}/${s.desired} replicas ready` };
  return { state: 'PENDING', ...base, message: s.failure ?? `0/${s.desired} replicas ready` };
}

export function sameState(a: DeploymentState | undefined, b: DeploymentState | undefined): boolean {
  return a?.desired === b?.desired && a?.ready === b?.ready && a?.failure === b?.failure;
}
