import type { FunctionSpecInput } from '@nanofaas/control-plane/contracts';
import { ApiClient } from '../../api-client/client.js';
import { apiToken } from '../../config/env.js';
import { StepFailure, type Step } from '../../pipeline/step.js';
import { type CatalogFunction, specFor } from '../../util/catalog.js';
import { placeImage } from '../cluster/images.js';
import { deployFunctions, removeUndeployedCatalogFunctions } from '../local/deploy-functions.js';
import type { UpContext } from '../target.js';
import { controlPlaneName } from './owner.js';
import type { DockerUp } from './up-state.js';

/** Per function, the input hash of the image its containers were last started from (a rebuilt image needs fresh containers). */
const DEPLOYED = 'deployed-images.json';

/**
 * The local target's converge, with each function's image being its registry reference: remove
 * the catalog functions this run does not deploy (the user's own stay), register the selected
 * ones, wait for a ready replica, one smoke invocation each.
 */
export function deployStep(up: DockerUp): Step<UpContext> {
  const { rootDir, state, env } = up.target;
  const ref = (image: string) => up.refs.get(image) ?? placeImage(up.registry, image).ref;
  // The catalog's handler is a path in this tree; each image carries its own HANDLER, as in a cluster.
  const containerSpec = (fn: CatalogFunction): FunctionSpecInput => {
    const { handler: _handler, ...spec } = specFor(fn);
    return { ...spec, image: ref(fn.image) };
  };
  return {
    title: 'Register and smoke-test the demo functions',
    plan: () => [
      'GET /v1/functions, then DELETE /v1/functions/<name> for each catalog function registered there that this run does not deploy (functions under other names are kept)',
      ...up.runnable.map(
        (f) => `POST /v1/functions ${f.name} (image ${ref(f.image)}), then POST /v1/functions/${f.name}:invoke with a test vector`,
      ),
    ],
    async run(ctx, io) {
      const token = apiToken(env);
      const api = new ApiClient({ baseUrl: ctx.endpoints!.apiUrl, ...(token ? { token } : {}) });
      const { catalog, runnable } = up;
      const deployed = state.readJson<Record<string, string>>(DEPLOYED) ?? {};
      const current = Object.fromEntries(runnable.map((f) => [f.name, up.imageHashes.get(f.image) ?? deployed[f.name] ?? '']));
      const rebuilt = new Set(runnable.filter((f) => deployed[f.name] && deployed[f.name] !== current[f.name]).map((f) => f.name));
      try {
        // First, so the removed ones free their containers before the new ones start.
        const removed = await removeUndeployedCatalogFunctions(api, catalog, runnable, io);
        ctx.removed = [...(ctx.removed ?? []), ...removed];
        if (runnable.length === 0) {
          io.log('no functions selected');
          return;
        }
        await deployFunctions(api, rootDir, catalog, runnable, ctx.functions, io, 120_000, rebuilt, up.target.suggest, containerSpec);
        state.writeJson({ ...deployed, ...current }, DEPLOYED);
      } catch (error) {
        if (!(error instanceof StepFailure)) throw error;
        throw new StepFailure(error.message, {
          ...(error.command ? { command: error.command } : {}),
          output: error.output,
          hint: `each replica is a container named nanofaas-${up.owner}-fn-<name>-<index>: \`docker logs\` it; \`docker logs ${controlPlaneName(up.owner)}\` shows the control plane's side`,
        });
      } finally {
        const order = new Map(catalog.functions.map((f, i) => [f.name, i]));
        ctx.functions.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
        await api.close();
      }
    },
  };
}
