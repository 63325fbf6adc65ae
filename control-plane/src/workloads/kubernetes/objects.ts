import type { AppsV1Api, CoreV1Api, V1Deployment, V1Service } from '@kubernetes/client-node';
import { apiStatusOf, toBackendError } from './errors.js';

/**
 * Idempotent writes of the two objects a function owns. These are the only calls the backend
 * makes besides list/watch, and the Helm chart's Role grants exactly these verbs.
 */
export interface ObjectClient {
  applyDeployment(body: V1Deployment): Promise<void>;
  applyService(body: V1Service): Promise<void>;
  scaleDeployment(name: string, replicas: number): Promise<void>;
  /** true when it existed. */
  deleteDeployment(name: string): Promise<boolean>;
  deleteService(name: string): Promise<boolean>;
}

/** A replace can race another writer (stale resourceVersion → 409): re-read and try again, a few times. */
const REPLACE_ATTEMPTS = 3;

export function createObjectClient(apps: AppsV1Api, core: CoreV1Api, namespace: string): ObjectClient {
  async function createOrReplace<T extends { metadata?: { name?: string; resourceVersion?: string } }>(
    what: string,
    body: T,
    ops: { create(): Promise<unknown>; read(): Promise<T>; replace(next: T): Promise<unknown> },
    carryOver: (current: T, next: T) => T,
  ): Promise<void> {
    try {
      await ops.create();
      return;
    } catch (err) {
      if (apiStatusOf(err) !== 409) throw toBackendError(err, what);
    }
    // Already there (re-registration, or a control plane restart): replace it with the current spec.
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await ops.read();
        const next = carryOver(current, body);
        next.metadata = { ...next.metadata, resourceVersion: current.metadata?.resourceVersion };
        await ops.replace(next);
        return;
      } catch (err) {
        if (apiStatusOf(err) === 409 && attempt < REPLACE_ATTEMPTS) continue;
        throw toBackendError(err, what);
      }
    }
  }

  async function deleteTolerant(what: string, del: () => Promise<unknown>): Promise<boolean> {
    try {
      await del();
      return true;
    } catch (err) {
      if (apiStatusOf(err) === 404) return false;
      throw toBackendError(err, what);
    }
  }

  return {
    applyDeployment(body) {
      const name = body.metadata?.name ?? '';
      return createOrReplace(
        `Deployment ${name}`,
        body,
        {
          create: () => apps.createNamespacedDeployment({ namespace, body }),
          read: () => apps.readNamespacedDeployment({ name, namespace }),
          replace: (next) => apps.replaceNamespacedDeployment({ name, namespace, body: next }),
        },
        (_current, next) => structuredClone(next),
      );
    },
    applyService(body) {
      const name = body.metadata?.name ?? '';
      return createOrReplace(
        `Service ${name}`,
        body,
        {
          create: () => core.createNamespacedService({ namespace, body }),
          read: () => core.readNamespacedService({ name, namespace }),
          replace: (next) => core.replaceNamespacedService({ name, namespace, body: next }),
        },
        // clusterIP is immutable and assigned by the API server: keep the one it gave.
        (current, next) => {
          const copy = structuredClone(next);
          copy.spec = {
            ...copy.spec,
            ...(current.spec?.clusterIP ? { clusterIP: current.spec.clusterIP } : {}),
            ...(current.spec?.clusterIPs ? { clusterIPs: current.spec.clusterIPs } : {}),
          };
          return copy;
        },
      );
    },
    async scaleDeployment(name, replicas) {
      try {
        // JSON patch (client-node's default patch type): touches spec.replicas and nothing else.
        await apps.patchNamespacedDeployment({
          name,
          namespace,
          body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
        });
      } catch (err) {
        throw toBackendError(err, `Deployment ${name}`);
      }
    },
    deleteDeployment(name) {
      return deleteTolerant(`Deployment ${name}`, () =>
        // Foreground: the ReplicaSets and pods go before the Deployment does.
        apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Foreground' }),
      );
    },
    deleteService(name) {
      return deleteTolerant(`Service ${name}`, () => core.deleteNamespacedService({ name, namespace }));
    },
  };
}
