import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import type { Runner } from '../host/run-local.js';
import type { ClusterAccess, Connection } from '../cluster/access.js';
import { NAMESPACE, RELEASE } from '../cluster/release.js';
import type { KubeconfigConfig } from './config.js';
import { portForward } from './port-forward.js';

/** kubectl and helm on this machine, against the kubeconfig's current context or NANOFAAS_KUBE_CONTEXT. */
export function clusterAccess(cfg: KubeconfigConfig, run: Runner): ClusterAccess {
  return {
    host: new LocalHost(run),
    kubectl: ['kubectl', ...(cfg.context ? ['--context', cfg.context] : [])],
    helm: ['helm', ...(cfg.context ? ['--kube-context', cfg.context] : [])],
  };
}

export const CONTROL_PLANE_SERVICE = `svc/${RELEASE}-control-plane`;
export const PROMETHEUS_SERVICE = `svc/${RELEASE}-prometheus`;

function portForwardArgv(access: ClusterAccess, service: string, ports: readonly string[]): string[] {
  return [...access.kubectl, '-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', service, ...ports];
}

/** What `connectCluster` does, for the plan. */
export function connectPlan(cfg: KubeconfigConfig, access: ClusterAccess): string[] {
  if (cfg.nanofaasUrl) return [`API ${cfg.nanofaasUrl} (NANOFAAS_URL)`];
  return [
    formatArgv(portForwardArgv(access, CONTROL_PLANE_SERVICE, [':8080', ':8081'])),
    ...(cfg.promUrl ? [] : [formatArgv(portForwardArgv(access, PROMETHEUS_SERVICE, [':9090']))]),
  ];
}

/**
 * Smoke tests reach the cluster through `kubectl port-forward` (works on any cluster, no node
 * address or firewall needed) unless NANOFAAS_URL names a reachable API (e.g. a NodePort).
 */
export async function connectCluster(cfg: KubeconfigConfig, env: NodeJS.ProcessEnv, access: ClusterAccess): Promise<Connection> {
  if (cfg.nanofaasUrl) {
    return {
      endpoints: {
        apiUrl: cfg.nanofaasUrl,
        managementUrl: cfg.nanofaasUrl.replace(/:30080$/, ':30081'),
        ...(cfg.promUrl ? { prometheusUrl: cfg.promUrl } : {}),
      },
      close: async () => {},
    };
  }
  const cp = await portForward(access.kubectl, NAMESPACE, CONTROL_PLANE_SERVICE, [8080, 8081], env);
  let prom: Awaited<ReturnType<typeof portForward>> | undefined;
  try {
    prom = cfg.promUrl ? undefined : await portForward(access.kubectl, NAMESPACE, PROMETHEUS_SERVICE, [9090], env);
  } catch (error) {
    await cp.close();
    throw error;
  }
  return {
    endpoints: {
      apiUrl: `http://127.0.0.1:${cp.localPorts[0]}`,
      managementUrl: `http://127.0.0.1:${cp.localPorts[1]}`,
      prometheusUrl: cfg.promUrl ?? `http://127.0.0.1:${prom?.localPorts[0]}`,
    },
    close: async () => {
      await Promise.all([cp.close(), prom?.close()]);
    },
  };
}
