import { ApiClient, ApiError } from '../../api-client/client.js';
import { StepFailure, type StepIO } from '../../pipeline/step.js';
import type { ReplicaEndpoints } from '../target.js';

/** How long a replica may not know a function registered through replica 0 (the KV watch takes well under a second). */
const REGISTRY_LAG_MS = 10_000;

/**
 * `up --replicas N`: functions are registered once, through replica 0; every other replica learns
 * them from the registry's KV watch and starts its own runtimes (the process backend's children
 * are per replica). `up` is done when each replica has each function ready, so whatever the CLI
 * or a load test sends to any replica finds it there.
 */
export async function waitOnReplicas(
  replicas: readonly ReplicaEndpoints[],
  names: readonly string[],
  options: { token?: string; readyTimeoutMs: number; io: Pick<StepIO, 'log'> },
): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    replicas
      .filter((r) => r.replica !== 0)
      .map(async (r) => {
        const api = new ApiClient({ baseUrl: r.apiUrl, ...(options.token ? { token: options.token } : {}) });
        try {
          for (const name of names) {
            try {
              const ms = await readyOn(api, name, options.readyTimeoutMs);
              options.io.log(`${name}: ready on replica ${r.replica} (${ms} ms)`);
            } catch (error) {
              failures.push(`replica ${r.replica}: ${(error as Error).message}`);
            }
          }
        } finally {
          await api.close();
        }
      }),
  );
  if (failures.length > 0)
    throw new StepFailure(`${failures.length} function(s) not ready on every replica: ${failures.join('; ')}`, {
      hint: 'each replica logs to <state>/logs/control-plane-<k>.log, its runtimes to <state>/replicas/<k>/logs/',
    });
}

/** Milliseconds until `name` has a ready replica on this control plane; 404 while the registry watch has not brought it yet. */
async function readyOn(api: ApiClient, name: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const left = started + timeoutMs - Date.now();
    if (left <= 0) throw new Error(`${name} not ready after ${Math.round(timeoutMs / 1000)} s`);
    let view: Awaited<ReturnType<ApiClient['getFunction']>> | undefined;
    try {
      // The server holds the answer while the function is PENDING: no polling loop while it starts.
      view = await api.getFunction(name, Math.min(left, 5_000));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      if (Date.now() - started > REGISTRY_LAG_MS) throw new Error(`${name} unknown after ${REGISTRY_LAG_MS / 1000} s (registry watch)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const status = view.status;
    if (!status || status.state === 'READY' || status.readyReplicas > 0) return Date.now() - started;
    if (status.state === 'FAILED') throw new Error(`${name} failed to start: ${status.message ?? 'no message'}`);
    // DEGRADED with nothing ready yet is answered at once: look again shortly.
    if (status.state !== 'PENDING') await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
