import { ensureRegistry, registryPlan } from '../../images/registry.js';
import type { Step } from '../../pipeline/step.js';
import type { UpContext } from '../target.js';
import { type DockerUp, REGISTRY_RECORD } from './up-state.js';

/** The local registry at LOCAL_REGISTRY: reused when it answers, else started (and recorded in the state dir). */
export function registryStep(up: DockerUp): Step<UpContext> {
  const { state, env } = up.target;
  const options = () => ({ state, env, address: up.registry, host: up.host, docker: ['docker'] as const });
  return {
    title: `Local registry (${up.registry})`,
    plan: () => registryPlan(options()),
    async run(_ctx, io) {
      io.target(`http://${up.registry}/v2/`);
      const registry = await ensureRegistry({ ...options(), signal: io.signal });
      state.writeJson({ address: registry.address }, REGISTRY_RECORD);
      io.log(
        registry.how === 'reused'
          ? `answers at ${registry.url}`
          : `started (${registry.how === 'process' ? `pid ${registry.pid}` : `container ${registry.container}`}), ready in ${Math.round(registry.ms)} ms`,
      );
    },
  };
}
