import type { CatalogFunction } from '../../util/catalog.js';
import { NODE_PORTS } from './release.js';
import { placeImage } from './images.js';

export { splitImage } from './images.js';

export interface ValuesInput {
  /** Registry the cluster pulls from; '' / undefined = the image names as they are (prebuilt). */
  registry: string | undefined;
  /** e.g. nanofaas/control-plane:0.1.0 */
  controlPlaneImage: string;
  functions: readonly CatalogFunction[];
  /** Our admission admits when it has no history (docs/design.md §3.2), so it stays on. */
  admissionEnabled: boolean;
  pullPolicy: 'IfNotPresent' | 'Always';
}

/**
 * The end-to-end values for helm/nanofaas (keys as in its values.yaml / values.schema.json):
 * NodePorts 30080/30081/30090, extraEnv for the control plane, every selected demo function with
 * the catalog's spec, images from `registry`. exec functions always get runtimeMode STDIO: HTTP
 * would crash-loop them.
 */
export function helmValues(input: ValuesInput): Record<string, unknown> {
  // The chart renders <image.registry>/<repository>:<tag>; placeImage keeps that equal to what was pushed.
  const cp = placeImage(input.registry, input.controlPlaneImage);
  return {
    image: { registry: cp.registry, tag: cp.tag, pullPolicy: input.pullPolicy },
    controlPlane: {
      image: { repository: cp.repository },
      service: { type: 'NodePort', nodePorts: { api: NODE_PORTS.api, management: NODE_PORTS.management } },
      extraEnv: [{ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: String(input.admissionEnabled) }],
    },
    prometheus: { enabled: true, service: { type: 'NodePort', nodePort: NODE_PORTS.prometheus } },
    functions: input.functions.map((fn) => {
      const image = placeImage(input.registry, fn.image);
      return {
        name: fn.name,
        repository: image.repository,
        tag: image.tag,
        timeoutMs: fn.spec.timeoutMs ?? 30_000,
        concurrency: fn.spec.concurrency ?? 4,
        queueSize: fn.spec.queueSize ?? 100,
        maxRetries: fn.spec.maxRetries ?? 3,
        runtimeMode: fn.runtime === 'exec' ? 'STDIO' : (fn.spec.runtimeMode ?? 'HTTP'),
      };
    }),
  };
}
