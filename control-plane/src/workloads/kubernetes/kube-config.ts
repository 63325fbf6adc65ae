import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesBackendError } from './errors.js';

/** Where Kubernetes mounts a pod's ServiceAccount credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  source: 'in-cluster' | 'kubeconfig';
  /** The pod's own namespace (in-cluster only). */
  namespace?: string;
}

/**
 * In a pod (KUBERNETES_SERVICE_HOST set): the mounted ServiceAccount token and CA, read by the
 * client on every request so a rotated token is picked up (without them every API call answers
 * 401). Elsewhere: KUBECONFIG or ~/.kube/config.
 * `pathPrefix` is prepended to the ServiceAccount paths so tests can point at a temp dir.
 */
export function loadKubeConfig(opts: { env?: NodeJS.ProcessEnv; pathPrefix?: string } = {}): LoadedKubeConfig {
  const env = opts.env ?? process.env;
  const prefix = opts.pathPrefix ?? '';
  const kubeConfig = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) {
    const tokenPath = `${prefix}${SERVICE_ACCOUNT_DIR}/token`;
    const caPath = `${prefix}${SERVICE_ACCOUNT_DIR}/ca.crt`;
    for (const [what, file] of [
      ['ServiceAccount token', tokenPath],
      ['cluster CA', caPath],
    ] as const) {
      if (!existsSync(file)) {
        throw new KubernetesBackendError(
          'BACKEND_UNAVAILABLE',
          `in-cluster config: ${what} not found at ${file} (is automountServiceAccountToken disabled for the control plane?)`,
          0,
        );
      }
    }
    // The library reads KUBERNETES_SERVICE_HOST/PORT from process.env itself.
    withEnv(env, () => kubeConfig.loadFromCluster(prefix));
    const namespace = readInClusterNamespace(prefix);
    return { kubeConfig, source: 'in-cluster', ...(namespace ? { namespace } : {}) };
  }
  withEnv(env, () => kubeConfig.loadFromDefault());
  if (!kubeConfig.getCurrentCluster()) {
    throw new KubernetesBackendError('BACKEND_UNAVAILABLE', 'no Kubernetes cluster configured: set KUBECONFIG or run in a pod', 0);
  }
  return { kubeConfig, source: 'kubeconfig' };
}

/** The namespace file of the mounted ServiceAccount, if there is one. */
export function readInClusterNamespace(pathPrefix = ''): string | undefined {
  const file = `${pathPrefix}${SERVICE_ACCOUNT_DIR}/namespace`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

function withEnv(env: NodeJS.ProcessEnv, fn: () => void): void {
  if (env === process.env) {
    fn();
    return;
  }
  const keys = ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'KUBECONFIG', 'HOME'];
  const saved = keys.map((k) => [k, process.env[k]] as const);
  try {
    for (const k of keys) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
    fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
