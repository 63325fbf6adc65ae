import type { Host } from '../host/host.js';
import type { Endpoints } from '../target.js';

/** How to reach a cluster: the machine kubectl/helm run on and their argv prefixes. */
export interface ClusterAccess {
  host: Host;
  kubectl: readonly string[];
  helm: readonly string[];
}

/** Live URLs of a deployment; `close` ends whatever made them reachable (a port-forward). */
export interface Connection {
  endpoints: Endpoints;
  close(): Promise<void>;
}
