import type { Step } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import { stopGroup } from '../../util/process.js';
import { stopGrafanaStep } from '../grafana-step.js';
import type { DownContext, TargetEnv } from '../target.js';
import { recordedReplicas, replicaComponent, stopControlPlane } from './control-plane.js';
import { findOwnedProcesses } from './owned-processes.js';
import { COMPONENT as NATS, stopNatsStep } from './nats-step.js';
import { COMPONENT as PROMETHEUS, stopPrometheusStep } from './prometheus.js';

/**
 * `down`: what `up` recorded (Prometheus, the control plane, which stops its runtimes), then every
 * process still marked with this state dir, Grafana if `loadtest` started it, the endpoints file.
 */
export function localDownSteps(target: TargetEnv): Step<DownContext>[] {
  const { rootDir, state, env } = target;
  // Owned processes the stop steps before this one do not stop: not the recorded groups, nor
  // the runtimes the recorded control plane stops. Once those ran (and forgot their records),
  // it is every owned process still alive.
  const leftovers = () => {
    const components = [...recordedReplicas(state).map(replicaComponent), PROMETHEUS, NATS];
    const records = components.map((c) => state.process(c)).filter((r) => r !== undefined);
    const groups = new Set(records.map((r) => r.pgid));
    const parents = new Set(records.map((r) => r.pid));
    return findOwnedProcesses(state.path).filter((p) => !groups.has(p.pgid) && !parents.has(p.ppid));
  };
  return [
    stopPrometheusStep(state),
    {
      // Every replica `up --replicas` started; each stops its own runtimes. Before nats-server, which they use.
      title: 'Stop the control plane and its runtimes',
      skip: () => (recordedReplicas(state).length > 0 ? false : 'not running'),
      plan: () =>
        recordedReplicas(state).map(
          (k) => `kill -TERM -${state.process(replicaComponent(k))?.pgid}   (${replicaComponent(k)}; it stops its runtimes)`,
        ),
      async run(ctx) {
        const replicas = recordedReplicas(state);
        const stopped = await Promise.all(replicas.map((k) => stopControlPlane(state, k)));
        replicas.forEach((k, i) => {
          if (stopped[i]) ctx.stopped.push(replicaComponent(k));
        });
      },
    },
    stopNatsStep(state),
    {
      title: 'Stop leftover processes',
      skip: () => (leftovers().length === 0 ? 'none' : false),
      plan: () => leftovers().map((p) => `kill -TERM -${p.pid}   (${p.env.FUNCTION_NAME ?? 'helper process'})`),
      async run(ctx, io) {
        const leftovers = findOwnedProcesses(state.path);
        await Promise.all(leftovers.map((p) => stopGroup(p.pid, 5_000)));
        for (const p of leftovers) io.log(`stopped pid ${p.pid} ${p.env.FUNCTION_NAME ?? ''}`);
        ctx.stopped.push(`${leftovers.length} leftover process${leftovers.length === 1 ? '' : 'es'}`);
      },
    },
    stopGrafanaStep(state, rootDir, env),
    forgetEndpointsStep(state),
  ];
}

/** `down`'s last step on every target that writes endpoints.json here. */
export function forgetEndpointsStep(state: StateDir): Step<DownContext> {
  return {
    title: 'Forget endpoints',
    skip: () => (state.exists('endpoints.json') ? false : 'nothing recorded'),
    plan: () => [`rm ${state.file('endpoints.json')}`],
    run() {
      state.remove('endpoints.json');
    },
  };
}
