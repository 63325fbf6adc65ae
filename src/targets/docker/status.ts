import { registryHealthy } from '../../images/registry.js';
import { httpStatus } from '../local/control-plane.js';
import { prometheusComponent } from '../local/prometheus.js';
import type { ComponentStatus, Endpoints, TargetEnv, TargetStatus } from '../target.js';
import { ownedContainers } from './containers.js';
import { docker } from './engine.js';
import { registryOf } from './up-state.js';
import { controlPlaneName, MANAGEMENT_PORT_LABEL, ownerId } from './owner.js';

/** The recorded endpoints, while the control plane's container that they belong to runs. */
export async function dockerEndpoints(target: TargetEnv): Promise<Endpoints | undefined> {
  const saved = target.state.endpoints();
  if (saved?.target !== 'docker') return undefined;
  const r = await docker(target.env, ['inspect', '--format', '{{.State.Running}}', controlPlaneName(ownerId(target.state.path))]);
  if (r.exitCode !== 0 || r.stdout.trim() !== 'true') return undefined;
  const { target: _t, updatedAt: _u, ...rest } = saved;
  return rest;
}

/** `status`: the containers of this owner (state, readiness), the registry, Prometheus. */
export async function dockerStatus(target: TargetEnv): Promise<TargetStatus> {
  const { state, env, suggest } = target;
  const owner = ownerId(state.path);
  const components: ComponentStatus[] = [];
  let containers: Awaited<ReturnType<typeof ownedContainers>> = [];
  try {
    containers = await ownedContainers(env, owner);
  } catch (error) {
    components.push({ name: 'docker engine', state: 'unknown', detail: (error as Error).message.split('\n')[0] ?? '' });
  }
  const cp = containers.find((c) => c.component === 'control-plane');
  if (!cp) components.push({ name: 'control-plane', state: 'stopped', detail: `no container ${controlPlaneName(owner)}` });
  else {
    const ready = cp.state === 'running' ? await httpStatus(`http://127.0.0.1:${cp.labels[MANAGEMENT_PORT_LABEL]}/readyz`) : 0;
    components.push({
      name: 'control-plane',
      state: ready === 200 ? 'running' : 'unhealthy',
      detail: `container ${cp.name}: ${cp.status}${ready === 200 || cp.state !== 'running' ? '' : `, /readyz answered ${ready || 'nothing'}`}${cp.state === 'running' ? '' : `; \`docker logs ${cp.name}\`, then \`${suggest('up')}\``}`,
    });
  }
  for (const fn of containers.filter((c) => c.component === 'function')) {
    components.push({
      name: fn.name,
      state: fn.state === 'running' ? 'running' : fn.state === 'exited' || fn.state === 'created' ? 'stopped' : 'unhealthy',
      detail: fn.status,
    });
  }
  const registry = registryOf(target);
  const answers = await registryHealthy(registry, 1_500);
  components.push({
    name: 'registry',
    state: answers ? 'running' : 'stopped',
    detail: `${registry}${answers ? '' : ' does not answer'}`,
    url: `http://${registry}`,
  });
  components.push(await prometheusComponent(state, env));
  const endpoints = cp?.state === 'running' ? await dockerEndpoints(target) : undefined;
  return { components, ...(endpoints ? { endpoints } : {}) };
}
