import type { Step } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import { displayCommand, stopGroup } from '../../util/process.js';
import type { ReplicaEndpoints, UpContext } from '../target.js';
import {
  choosePorts,
  controlPlaneCommand,
  recordedReplicas,
  replicaComponent,
  replicaStateDir,
  runningControlPlane,
  startControlPlane,
  stopControlPlane,
} from './control-plane.js';
import { runsWithNats } from './nats-step.js';
import { isOwnedBy } from './owned-processes.js';
import type { LocalUp } from './up-state.js';

/** A replica kept as it runs, with where it answers. */
interface Kept extends ReplicaEndpoints {
  pid: number;
  apiPort: number;
}

/** What converging to N replicas takes: which run as wanted, which to start, which to stop. */
interface ReplicaPlan {
  keep: Kept[];
  start: number[];
  stop: number[];
}

/**
 * Replicas 0…count-1 that this state dir started, that are ready and (with --nats) run against
 * this nats-server are kept; the others are started; recorded replicas from count on are stopped.
 */
async function planReplicas(state: StateDir, count: number, natsUrl: string | undefined): Promise<ReplicaPlan> {
  const plan: ReplicaPlan = { keep: [], start: [], stop: recordedReplicas(state).filter((k) => k >= count) };
  for (let replica = 0; replica < count; replica++) {
    const running = await runningControlPlane(state, replica);
    // --nats against a control plane started without it (or against another server): replace it.
    if (!running?.ports || (natsUrl !== undefined && !runsWithNats(running.pid, natsUrl))) {
      plan.start.push(replica);
      continue;
    }
    const apiPort = running.ports.api!;
    plan.keep.push({
      replica,
      pid: running.pid,
      apiPort,
      apiUrl: running.url ?? `http://127.0.0.1:${apiPort}`,
      managementUrl: `http://127.0.0.1:${running.ports.management}`,
    });
  }
  return plan;
}

/**
 * The control plane with the process backend, detached; with `--replicas N` (NATS mode only, the
 * up command checks) N of them, each with its own ports and state (control-plane.ts). Converges:
 * what runs as asked is kept, missing replicas are started, surplus ones stopped. The CLI keeps
 * talking to replica 0; endpoints.json lists every replica when there are several.
 */
export function controlPlaneStep(up: LocalUp): Step<UpContext> {
  const { rootDir, state, env } = up.target;
  const { options } = up;
  const count = options.replicas ?? 1;

  /** Hand the replicas on to the later steps and record them (replica 0's URLs are the CLI's). */
  function adopt(ctx: UpContext, replicas: Kept[], save: boolean, keepPrometheus: boolean): void {
    const sorted = [...replicas].sort((a, b) => a.replica - b.replica);
    const first = sorted[0]!;
    ctx.endpoints = {
      apiUrl: first.apiUrl,
      managementUrl: first.managementUrl,
      ...(sorted.length > 1 ? { replicas: sorted.map(({ replica, apiUrl, managementUrl }) => ({ replica, apiUrl, managementUrl })) } : {}),
    };
    up.managementPort = Number(new URL(first.managementUrl).port);
    if (!save) return;
    // A kept replica 0 keeps the Prometheus that scrapes it; a new one is scraped once the Prometheus step configured it.
    const prometheusUrl = keepPrometheus ? state.endpoints()?.prometheusUrl : undefined;
    state.saveEndpoints('local', { ...ctx.endpoints, ...(prometheusUrl ? { prometheusUrl } : {}) });
  }

  return {
    title: count === 1 ? 'Start the control plane (process backend)' : `Start ${count} control-plane replicas (process backend)`,
    async skip(ctx, { dryRun }) {
      const plan = await planReplicas(state, count, up.natsUrl);
      if (plan.start.length > 0 || plan.stop.length > 0) return false;
      adopt(ctx, plan.keep, !dryRun, true);
      const pids = plan.keep.map((k) => `pid ${k.pid}, API :${k.apiPort}`).join('; ');
      return `already running (${pids})`;
    },
    async plan() {
      const plan = await planReplicas(state, count, up.natsUrl);
      const [node, ...args] = controlPlaneCommand(rootDir) as [string, ...string[]];
      const command = displayCommand(node, args);
      return [
        ...plan.stop.map((k) => `kill -TERM -${state.process(replicaComponent(k))?.pgid}   (replica ${k}: more than --replicas ${count})`),
        ...plan.start.map(
          (k) =>
            `${command}   (replica ${k}, NANOFAAS_WORKLOAD_BACKEND=process, NANOFAAS_STATE_DIR=${replicaStateDir(state, k)}, detached, log ${state.logPath(replicaComponent(k))})`,
        ),
      ];
    },
    async run(ctx, io) {
      const plan = await planReplicas(state, count, up.natsUrl);
      // Surplus replicas first: they free their runtimes before new ones start.
      for (const replica of plan.stop) {
        await stopControlPlane(state, replica);
        io.log(`replica ${replica} stopped (--replicas ${count})`);
      }
      const replicas = [...plan.keep];
      // Ascending, so replica 0 (which creates the NATS streams and buckets on a fresh store) is first.
      for (const replica of plan.start) {
        const component = replicaComponent(replica);
        const stale = state.process(component);
        if (stale) {
          io.log(`replacing the stale ${component} record (pid ${stale.pid})`);
          if (isOwnedBy(stale.pid, state.path)) await stopGroup(stale.pgid, 5_000);
          state.forgetProcess(component);
        }
        // Replica 0 keeps --port/--management-port (or 8080/8081); the others take free ports.
        const ports =
          replica === 0
            ? await choosePorts({
                env,
                ...(options.apiPort !== undefined ? { apiPort: options.apiPort } : {}),
                ...(options.managementPort !== undefined ? { managementPort: options.managementPort } : {}),
              })
            : { api: 0, management: 0 };
        if (ports.note) ctx.notes.push(ports.note);
        io.target(`node control-plane/dist/main.js (log ${state.logFile(component)})`);
        // --nats: the nats-server step before this one set the URL.
        const cpEnv = up.natsUrl ? { ...env, NANOFAAS_NATS_URL: up.natsUrl } : env;
        const { record, listening } = await startControlPlane({ rootDir, state, env: cpEnv, signal: io.signal, replica }, ports);
        io.log(
          `${count > 1 ? `replica ${replica}: ` : ''}pid ${record.pid}, API ${listening.apiUrl}, management ${listening.managementUrl}`,
        );
        replicas.push({
          replica,
          pid: record.pid,
          apiPort: listening.apiPort,
          apiUrl: listening.apiUrl,
          managementUrl: listening.managementUrl,
        });
      }
      adopt(ctx, replicas, true, !plan.start.includes(0));
    },
  };
}
