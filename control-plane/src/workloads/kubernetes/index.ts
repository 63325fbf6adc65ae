import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { FunctionSpec, FunctionStatus } from '../../contracts/index.js';
import type { BackendOptions, Endpoint, WorkloadBackend } from '../backend.js';
import { isReady, statusOf } from './deployment-state.js';
import { startDeploymentWatcher } from './deployment-watcher.js';
import { KubernetesBackendError } from './errors.js';
import { loadKubeConfig } from './kube-config.js';
import { deploymentFor, serviceFor, serviceUrl, workloadName, type ManifestContext } from './manifests.js';
import { createObjectClient } from './objects.js';
import { createScalerLoop, DEFAULT_SCALER_SETTINGS, type LoadSample, type ScalerSettings } from './scaler.js';

export { KubernetesBackendError } from './errors.js';
export { loadKubeConfig, readInClusterNamespace } from './kube-config.js';
export type { LoadSample } from './scaler.js';

export interface KubernetesBackendOptions extends BackendOptions {
  namespace: string;
  /** Defaults to loadKubeConfig(): in-cluster ServiceAccount, else KUBECONFIG. */
  kubeConfig?: KubeConfig;
  /** Cluster DNS suffix of Service names (default cluster.local). */
  clusterDomain?: string;
  imagePullPolicy?: ManifestContext['imagePullPolicy'];
  /** List period while the Deployment watch is broken (default 5000 ms). */
  pollIntervalMs?: number;
  /** How long deprovision waits for the Deployment to disappear (default 30000 ms). */
  deleteTimeoutMs?: number;
  /** Internal scaler: evaluation period (default 5000 ms) and cool-downs. */
  scaler?: Partial<ScalerSettings> & { intervalMs?: number };
  /** Injected clock for the scaler (default Date.now). */
  now?: () => number;
}

/** The kubernetes backend also takes load reports for its internal scaler. */
export interface KubernetesBackend extends WorkloadBackend {
  readonly name: 'kubernetes';
  /** Latest queue depth / in-flight of a function; INTERNAL-strategy functions scale on it. */
  observeLoad(name: string, load: LoadSample): void;
  /** Evaluate the scaler now (normally a timer does it). */
  scaleTick(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 3000;

/**
 * Functions as a Deployment + Service `fn-<name>` each. The endpoint is the Service's DNS name
 * (kube-proxy balances over pods); it is ready when the Deployment has ≥ 1 ready replica, as
 * reported by a watch on the managed Deployments — so endpoints()/status() never do I/O.
 */
export function createKubernetesBackend(options: KubernetesBackendOptions): KubernetesBackend {
  const { namespace, logger } = options;
  const kubeConfig = options.kubeConfig ?? loadKubeConfig().kubeConfig;
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const objects = createObjectClient(apps, core, namespace);
  const ctx: ManifestContext = {
    namespace,
    ...(options.callbackBaseUrl ? { callbackBaseUrl: options.callbackBaseUrl } : {}),
    ...(options.callbackToken ? { callbackToken: options.callbackToken } : {}),
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
  };
  const now = options.now ?? Date.now;
  const specs = new Map<string, FunctionSpec>();
  const listeners = new Set<(name: string) => void>();

  const emit = (name: string): void => {
    for (const l of listeners) {
      try {
        l(name);
      } catch (err) {
        logger.error({ err: String(err), function: name }, 'kubernetes: onChange listener threw');
      }
    }
  };

  const watcher = startDeploymentWatcher({
    kubeConfig,
    apps,
    namespace,
    pollIntervalMs: options.pollIntervalMs ?? 5000,
    logger,
    onState: (name) => emit(name),
  });

  const scaler = createScalerLoop({
    settings: { ...DEFAULT_SCALER_SETTINGS, ...options.scaler },
    intervalMs: options.scaler?.intervalMs ?? 5000,
    now,
    specOf: (name) => specs.get(name),
    currentReplicas: (name) => watcher.get(name)?.desired,
    scale: (name, replicas) => objects.scaleDeployment(workloadName(name), replicas),
    onError: (name, err) => logger.warn({ err: String(err), function: name }, 'kubernetes: scaler could not scale'),
  });

  /** Pending waitReady/deprovision waits, rejected by close(). */
  const waiters = new Set<(err: Error) => void>();

  /** Resolves when `test` holds for the function's state, re-checked on every change. */
  function waitFor(name: string, test: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        off();
        waiters.delete(finish);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new KubernetesBackendError('TIMEOUT', `${describe()} after ${timeoutMs} ms`, 0)), timeoutMs);
      const off = backend.onChange((changed) => {
        if (changed === name && test()) finish();
      });
      waiters.add(finish);
    });
  }

  const backend: KubernetesBackend = {
    name: 'kubernetes',

    async provision(spec) {
      // Build both first so a spec the manifests reject changes nothing in the cluster.
      const deployment = deploymentFor(spec, ctx);
      const service = serviceFor(spec, ctx);
      await objects.applyService(service);
      await objects.applyDeployment(deployment);
      specs.set(spec.name, spec);
      // Known from now on (not ready) even before the watch reports the new Deployment.
      watcher.seed(spec.name, { desired: spec.replicas, ready: 0 });
    },

    async deprovision(name) {
      const wl = workloadName(name);
      const existed = await objects.deleteDeployment(wl);
      await objects.deleteService(wl);
      specs.delete(name);
      scaler.forget(name);
      if (existed) {
        try {
          await waitFor(
            name,
            () => watcher.get(name) === undefined,
            options.deleteTimeoutMs ?? 30_000,
            () => `Deployment ${wl} still present`,
          );
        } catch (err) {
          logger.warn({ err: String(err), function: name }, 'kubernetes: Deployment deletion still in progress');
        }
      }
    },

    async scale(name, replicas) {
      await objects.scaleDeployment(workloadName(name), replicas).catch((err: unknown) => {
        if (err instanceof KubernetesBackendError && err.apiStatus === 404) {
          throw new KubernetesBackendError('FUNCTION_NOT_FOUND', `function ${name} has no Deployment ${workloadName(name)}`, 404);
        }
        throw err;
      });
      scaler.noteManualScale(name, replicas);
      const spec = specs.get(name);
      if (spec) specs.set(name, { ...spec, replicas });
    },

    endpoints(name): Endpoint[] {
      const state = watcher.get(name);
      if (!state) return [];
      return [{ url: serviceUrl(name, namespace, options.clusterDomain), ready: isReady(state) }];
    },

    status(name): FunctionStatus {
      return statusOf(watcher.get(name));
    },

    waitReady(name, timeoutMs) {
      return waitFor(
        name,
        () => isReady(watcher.get(name)),
        timeoutMs,
        () => {
          const s = watcher.get(name);
          return `function ${name} not ready (${s?.ready ?? 0}/${s?.desired ?? 0} replicas ready${s?.failure ? `; ${s.failure}` : ''})`;
        },
      );
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async healthy() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
      });
      const probe = apps.listNamespacedDeployment({ namespace, limit: 1 }).then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([probe, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      scaler.stop();
      await watcher.stop();
      for (const finish of [...waiters]) {
        finish(new KubernetesBackendError('SHUTTING_DOWN', 'kubernetes backend closed', 0));
      }
      listeners.clear();
    },

    observeLoad(name, load) {
      scaler.observe(name, load);
    },

    scaleTick() {
      return scaler.tick();
    },
  };
  return backend;
}
