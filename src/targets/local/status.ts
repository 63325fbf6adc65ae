import { isAlive } from '../../util/process.js';
import type { Endpoints, TargetEnv, TargetStatus } from '../target.js';
import { COMPONENT as CONTROL_PLANE, httpStatus } from './control-plane.js';
import { findOwnedProcesses } from './owned-processes.js';
import { prometheusComponent } from './prometheus.js';

/** The recorded endpoints, while the control plane that wrote them is alive. */
export function localEndpoints(target: TargetEnv): Endpoints | undefined {
  const { state } = target;
  const saved = state.endpoints();
  const cp = state.process(CONTROL_PLANE);
  if (!saved || !cp || !isAlive(cp.pid)) return undefined;
  const { target: _t, updatedAt: _u, ...rest } = saved;
  return rest;
}

/** `status`: the control plane (recorded, alive, listening, ready), the runtimes it started, Prometheus. */
export async function localStatus(target: TargetEnv): Promise<TargetStatus> {
  const { state, env } = target;
  const components: TargetStatus['components'] = [];
  const cp = state.process(CONTROL_PLANE);
  if (!cp) components.push({ name: 'control-plane', state: 'stopped' });
  else if (!isAlive(cp.pid))
    components.push({
      name: 'control-plane',
      state: 'unhealthy',
      pid: cp.pid,
      detail: `process exited (stale pid file); rerun \`${target.suggest('up')}\``,
    });
  // Recorded at spawn, ports only once it listened: its `up` was interrupted or is still starting it.
  else if (!cp.ports)
    components.push({
      name: 'control-plane',
      state: 'unhealthy',
      pid: cp.pid,
      detail: `started but not listening yet (interrupted \`up\`?); \`${target.suggest('down')}\` stops it`,
    });
  else {
    const ready = await httpStatus(`http://127.0.0.1:${cp.ports?.management}/readyz`);
    components.push({
      name: 'control-plane',
      state: ready === 200 ? 'running' : 'unhealthy',
      pid: cp.pid,
      ...(cp.url ? { url: cp.url } : {}),
      ...(ready === 200 ? {} : { detail: `/readyz answered ${ready || 'nothing'}` }),
    });
  }
  const runtimes = findOwnedProcesses(state.path).filter((p) => p.env.FUNCTION_NAME);
  components.push({
    name: 'runtimes',
    state: runtimes.length > 0 ? 'running' : 'stopped',
    detail: `${runtimes.length} process${runtimes.length === 1 ? '' : 'es'}`,
  });
  components.push(await prometheusComponent(state, env));
  const e = localEndpoints(target);
  return { components, ...(e ? { endpoints: e } : {}) };
}
