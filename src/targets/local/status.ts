import { isAlive } from '../../util/process.js';
import type { Endpoints, TargetEnv, TargetStatus } from '../target.js';
import type { StateDir } from '../../state/state-dir.js';
import { COMPONENT as CONTROL_PLANE, httpStatus, recordedReplicas, replicaComponent } from './control-plane.js';
import { COMPONENT as NATS, runningNats } from './nats-step.js';
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

/**
 * `status`: each control-plane replica (recorded, alive, listening, ready; replica 0 is
 * "control-plane", replica k "control-plane-k"), the runtimes they started, nats-server, Prometheus.
 */
export async function localStatus(target: TargetEnv): Promise<TargetStatus> {
  const { state, env } = target;
  const replicas = recordedReplicas(state);
  const components: TargetStatus['components'] = await Promise.all(
    (replicas.length > 0 ? replicas : [0]).map((k) => replicaStatus(target, state, k)),
  );
  const runtimes = findOwnedProcesses(state.path).filter((p) => p.env.FUNCTION_NAME);
  components.push({
    name: 'runtimes',
    state: runtimes.length > 0 ? 'running' : 'stopped',
    detail: `${runtimes.length} process${runtimes.length === 1 ? '' : 'es'}`,
  });
  // `up --nats`: the nats-server the replicas share (only listed when one was started here).
  const natsRecord = state.process(NATS);
  if (natsRecord) {
    const nats = runningNats(state);
    components.push(
      nats
        ? { name: 'nats-server', state: 'running', pid: nats.pid, url: nats.url }
        : {
            name: 'nats-server',
            state: 'unhealthy',
            pid: natsRecord.pid,
            detail: isAlive(natsRecord.pid) ? 'not listening yet' : 'process exited (stale pid file)',
          },
    );
  }
  components.push(await prometheusComponent(state, env));
  const e = localEndpoints(target);
  return { components, ...(e ? { endpoints: e } : {}) };
}

/** One control-plane replica's line: stopped, exited, not listening yet, or its /readyz. */
async function replicaStatus(target: TargetEnv, state: StateDir, replica: number): Promise<TargetStatus['components'][number]> {
  const name = replicaComponent(replica);
  const cp = state.process(name);
  if (!cp) return { name, state: 'stopped' };
  if (!isAlive(cp.pid))
    return { name, state: 'unhealthy', pid: cp.pid, detail: `process exited (stale pid file); rerun \`${target.suggest('up')}\`` };
  // Recorded at spawn, ports only once it listened: its `up` was interrupted or is still starting it.
  if (!cp.ports)
    return {
      name,
      state: 'unhealthy',
      pid: cp.pid,
      detail: `started but not listening yet (interrupted \`up\`?); \`${target.suggest('down')}\` stops it`,
    };
  const ready = await httpStatus(`http://127.0.0.1:${cp.ports.management}/readyz`);
  return {
    name,
    state: ready === 200 ? 'running' : 'unhealthy',
    pid: cp.pid,
    ...(cp.url ? { url: cp.url } : {}),
    ...(ready === 200 ? {} : { detail: `/readyz answered ${ready || 'nothing'}` }),
  };
}
