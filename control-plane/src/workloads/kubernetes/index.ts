// Placeholder with the agreed signature; the kubernetes backend replaces this file.
import type { BackendOptions, WorkloadBackend } from '../backend.js';

export interface KubernetesBackendOptions extends BackendOptions {
  namespace: string;
}

export function createKubernetesBackend(_options: KubernetesBackendOptions): WorkloadBackend {
  throw new Error('kubernetes backend not implemented yet');
}
