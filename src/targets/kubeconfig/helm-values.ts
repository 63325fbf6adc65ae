import type { CatalogFunction } from './catalog.js';
import { inRegistry } from './images.js';
import { NODE_PORTS } from './env.js';

export interface ValuesInput {
  /** Registry the cluster pulls from; undefined = the image names as they are (prebuilt, public). */
  registry: string | undefined;
  controlPlaneImage: string;
  functions: readonly CatalogFunction[];
  /** Our admission admits when it has no history (DESIGN §4), so it stays on; the seed had to turn it off. */
  admissionEnabled: boolean;
  pullPolicy: 'IfNotPresent' | 'Always';
}

function splitImage(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port (localhost:5000/x), not a tag.
  if (at === -1 || at < ref.lastIndexOf('/')) return { repository: ref, tag: 'latest' };
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/** The e2e values of the seed (NodePorts 30080/30081/30090, extraEnv, demo functions) as an object for `-f`. */
export function helmValues(input: ValuesInput): Record<string, unknown> {
  const ref = (image: string) => (input.registry ? inRegistry(input.registry, image) : image);
  return {
    controlPlane: {
      image: { ...splitImage(ref(input.controlPlaneImage)), pullPolicy: input.pullPolicy },
      service: { type: 'NodePort', nodePorts: { http: NODE_PORTS.api, management: NODE_PORTS.management } },
      extraEnv: [{ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: String(input.admissionEnabled) }],
    },
    prometheus: { enabled: true, service: { type: 'NodePort', nodePort: NODE_PORTS.prometheus } },
    demoFunctions: {
      enabled: true,
      functions: input.functions.map((fn) => ({
        name: fn.name,
        image: ref(fn.image),
        imagePullPolicy: input.pullPolicy,
        timeoutMs: fn.spec.timeoutMs ?? 30_000,
        concurrency: fn.spec.concurrency ?? 4,
        queueSize: fn.spec.queueSize ?? 100,
        maxRetries: fn.spec.maxRetries ?? 3,
        // exec functions speak STDIO through the watchdog; HTTP would crash-loop (seed troubleshooting).
        runtimeMode: fn.runtime === 'exec' ? 'STDIO' : (fn.spec.runtimeMode ?? 'HTTP'),
      })),
    },
  };
}
