import { join } from 'node:path';
import type { Step } from '../../pipeline/step.js';
import { displayCommand, stopGroup } from '../../util/process.js';
import type { UpContext } from '../target.js';
import { choosePorts, COMPONENT as CONTROL_PLANE, runningControlPlane, startControlPlane } from './control-plane.js';
import { runsWithNats } from './nats-step.js';
import { isOwnedBy } from './owned-processes.js';
import type { LocalUp } from './up-state.js';

/** The control plane with the process backend, detached; kept when one this state dir started still runs. */
export function controlPlaneStep(up: LocalUp): Step<UpContext> {
  const { rootDir, state, env } = up.target;
  const { options } = up;
  return {
    title: 'Start the control plane (process backend)',
    async skip(ctx, { dryRun }) {
      const running = await runningControlPlane(state);
      if (!running?.ports) return false;
      // --nats against a control plane started without it (or against another server): replace it.
      if (up.natsUrl !== undefined && !runsWithNats(running.pid, up.natsUrl)) return false;
      ctx.endpoints = {
        apiUrl: running.url ?? `http://127.0.0.1:${running.ports.api}`,
        managementUrl: `http://127.0.0.1:${running.ports.management}`,
      };
      up.managementPort = running.ports.management!;
      if (!dryRun)
        state.saveEndpoints('local', {
          ...ctx.endpoints,
          ...(state.endpoints()?.prometheusUrl ? { prometheusUrl: state.endpoints()!.prometheusUrl! } : {}),
        });
      return `already running (pid ${running.pid}, API :${running.ports.api})`;
    },
    plan: () => [
      `${displayCommand(process.execPath, [join(rootDir, 'control-plane/dist/main.js')])}   (NANOFAAS_WORKLOAD_BACKEND=process, detached, log ${state.logPath(CONTROL_PLANE)})`,
    ],
    async run(ctx, io) {
      const stale = state.process(CONTROL_PLANE);
      if (stale) {
        io.log(`replacing the stale control plane record (pid ${stale.pid})`);
        if (isOwnedBy(stale.pid, state.path)) await stopGroup(stale.pgid, 5_000);
        state.forgetProcess(CONTROL_PLANE);
      }
      const ports = await choosePorts({
        env,
        ...(options.apiPort !== undefined ? { apiPort: options.apiPort } : {}),
        ...(options.managementPort !== undefined ? { managementPort: options.managementPort } : {}),
      });
      if (ports.note) ctx.notes.push(ports.note);
      io.target(`node control-plane/dist/main.js (log ${state.logFile(CONTROL_PLANE)})`);
      // --nats: the nats-server step before this one set the URL.
      const cpEnv = up.natsUrl ? { ...env, NANOFAAS_NATS_URL: up.natsUrl } : env;
      const { record, listening } = await startControlPlane({ rootDir, state, env: cpEnv, signal: io.signal }, ports);
      io.log(`pid ${record.pid}, API ${listening.apiUrl}, management ${listening.managementUrl}`);
      ctx.endpoints = { apiUrl: listening.apiUrl, managementUrl: listening.managementUrl };
      up.managementPort = listening.managementPort;
      state.saveEndpoints('local', ctx.endpoints);
    },
  };
}
