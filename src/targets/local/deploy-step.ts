import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../api-client/client.js';
import { apiToken } from '../../config/env.js';
import type { Step } from '../../pipeline/step.js';
import type { UpContext } from '../target.js';
import { artifactMtime, handlerArtifact } from './build.js';
import { deployFunctions, removeUndeployedCatalogFunctions } from './deploy-functions.js';
import { waitOnReplicas } from './replicas-ready.js';
import type { LocalUp } from './up-state.js';

/**
 * Registers the runnable functions and smoke-tests each; first removes the catalog functions this
 * run does not deploy. A function whose artifact was rebuilt since the last `up` gets fresh processes.
 */
export function deployStep(up: LocalUp): Step<UpContext> {
  const { rootDir, state, env } = up.target;
  return {
    title: 'Register and smoke-test the demo functions',
    plan: () => [
      'GET /v1/functions, then DELETE /v1/functions/<name> for each catalog function registered there that this run does not deploy (functions under other names are kept)',
      ...up.runnable.map((f) => `POST /v1/functions ${f.name}, then POST /v1/functions/${f.name}:invoke with a test vector`),
      ...((up.options.replicas ?? 1) > 1
        ? [
            `GET /v1/functions/<name>?waitMs=… on ${up.options.replicas === 2 ? 'replica 1' : `replicas 1…${up.options.replicas! - 1}`} until it has every function ready (registered once, through replica 0)`,
          ]
        : []),
    ],
    async run(ctx, io) {
      for (const fn of [...up.runnable]) {
        const artifact = handlerArtifact(fn);
        if (artifact && !existsSync(join(rootDir, artifact))) up.skip(ctx, fn, `handler not built (${artifact} missing)`);
      }
      const token = apiToken(env);
      const api = new ApiClient({ baseUrl: ctx.endpoints!.apiUrl, ...(token ? { token } : {}) });
      const { catalog, runnable } = up;
      const deployed = state.readJson<Record<string, number>>('deployed-artifacts.json') ?? {};
      const current = Object.fromEntries(runnable.map((f) => [f.name, artifactMtime(rootDir, f)]));
      const rebuilt = new Set(
        runnable.filter((f) => deployed[f.name] !== undefined && deployed[f.name] !== current[f.name]).map((f) => f.name),
      );
      try {
        // First, so the removed ones free their processes before the new ones start.
        const removed = await removeUndeployedCatalogFunctions(api, catalog, runnable, io);
        ctx.removed = [...(ctx.removed ?? []), ...removed];
        if (runnable.length === 0) {
          io.log('no runnable functions');
          return;
        }
        await deployFunctions(api, rootDir, catalog, runnable, ctx.functions, io, 90_000, rebuilt, up.target.suggest);
        // --replicas: registered once (through replica 0); the others take it from the NATS registry.
        const replicas = ctx.endpoints!.replicas ?? [];
        if (replicas.length > 1)
          await waitOnReplicas(
            replicas,
            runnable.map((f) => f.name),
            { ...(token ? { token } : {}), readyTimeoutMs: 90_000, io },
          );
        state.writeJson({ ...deployed, ...current }, 'deployed-artifacts.json');
      } finally {
        const order = new Map(catalog.functions.map((f, i) => [f.name, i]));
        ctx.functions.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
        await api.close();
      }
    },
  };
}
