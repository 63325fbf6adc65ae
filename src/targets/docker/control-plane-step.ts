import { envValue } from '../../config/env.js';
import { StepFailure, type Step } from '../../pipeline/step.js';
import { freePort, preferPort } from '../../util/ports.js';
import { controlPlaneImage, placeImage } from '../cluster/images.js';
import { httpStatus } from '../local/control-plane.js';
import type { UpContext } from '../target.js';
import {
  configHash,
  type ContainerState,
  controlPlaneRunArgs,
  forwardedEnv,
  imageId,
  inspectContainer,
  waitForControlPlane,
  withConfigLabel,
} from './control-plane.js';
import { docker, dockerLine } from './engine.js';
import { API_PORT_LABEL, CONFIG_LABEL, controlPlaneName, MANAGEMENT_PORT_LABEL } from './owner.js';
import type { DockerUp } from './up-state.js';

const DEFAULT_API_PORT = 8080;
const DEFAULT_MANAGEMENT_PORT = 8081;

/** The port asked for (flag, then env), or undefined: "the default, or a free one". */
function requested(flag: number | undefined, env: number | undefined): number | undefined {
  return flag ?? env;
}

async function pickPort(asked: number | undefined, preferred: number): Promise<number> {
  if (asked !== undefined && asked !== 0) return asked;
  if (asked === undefined) {
    const port = await preferPort(preferred);
    if (port !== 0) return port;
  }
  return freePort();
}

/**
 * The control plane as a container of this owner, with the docker backend. A running, ready one
 * started from the same image and settings is kept (a warm `up` changes nothing); any other is
 * replaced. The endpoints file is what `status`, `invoke`, `loadtest` and `report` read.
 */
export function controlPlaneStep(up: DockerUp): Step<UpContext> {
  const { rootDir, state, env } = up.target;
  const name = controlPlaneName(up.owner);
  const asked = () => ({
    api: requested(up.options.apiPort, envValue(env, 'NANOFAAS_PORT')),
    management: requested(up.options.managementPort, envValue(env, 'NANOFAAS_MANAGEMENT_PORT')),
  });
  const imageRef = () => up.refs.get(controlPlaneImage(rootDir)) ?? placeImage(up.registry, controlPlaneImage(rootDir)).ref;
  const forwarded = forwardedEnv(env);
  const args = (ports: { api: number | string; management: number | string }) =>
    controlPlaneRunArgs({
      owner: up.owner,
      image: imageRef(),
      socket: up.socket,
      socketGid: up.socketGid ?? '<group of the socket>',
      ports,
      forwarded: Object.keys(forwarded).sort(),
    });
  const publish = (ctx: UpContext, ports: { api: number; management: number }) => {
    ctx.endpoints = { apiUrl: `http://127.0.0.1:${ports.api}`, managementUrl: `http://127.0.0.1:${ports.management}` };
    up.managementPort = ports.management;
    const prometheusUrl = state.endpoints()?.prometheusUrl;
    state.saveEndpoints('docker', { ...ctx.endpoints, ...(prometheusUrl ? { prometheusUrl } : {}) });
  };
  // Found by skip(), so run() does not inspect twice.
  let existing: ContainerState | undefined;
  return {
    title: 'Start the control plane container (docker backend)',
    async skip(ctx, { dryRun }) {
      // A dry run talks to no engine: the plan shows the run as if nothing ran.
      if (dryRun) return false;
      existing = await inspectContainer(env, name);
      if (!existing?.running) return false;
      const ports = { api: Number(existing.labels[API_PORT_LABEL]), management: Number(existing.labels[MANAGEMENT_PORT_LABEL]) };
      const want = asked();
      if ((want.api && want.api !== ports.api) || (want.management && want.management !== ports.management)) return false;
      const id = await imageId(env, imageRef());
      if (!id || id !== existing.imageId) return false;
      if (existing.labels[CONFIG_LABEL] !== configHash(args(ports), id, forwarded)) return false;
      if ((await httpStatus(`http://127.0.0.1:${ports.management}/readyz`)) !== 200) return false;
      publish(ctx, ports);
      return `already running (${name}, same image, API :${ports.api})`;
    },
    plan: () => {
      const want = asked();
      const ports = {
        api: want.api || `<${DEFAULT_API_PORT} or a free port>`,
        management: want.management || `<${DEFAULT_MANAGEMENT_PORT} or a free port>`,
      };
      return [
        `${dockerLine(['rm', '-f', name])}   (when one runs with another image or settings)`,
        `${dockerLine(withConfigLabel(args(ports), '<hash of these settings>'))}`,
        `GET http://127.0.0.1:${ports.management}/readyz until 200 (stops when the container exits)`,
      ];
    },
    async run(ctx, io) {
      if (existing) {
        io.log(`replacing ${name} (${existing.running ? 'another image or settings' : existing.status})`);
        const rm = await docker(env, ['rm', '-f', name], { timeoutMs: 60_000 });
        if (rm.exitCode !== 0 && !/No such container/i.test(rm.stderr))
          throw new StepFailure(`could not remove ${name}`, { command: dockerLine(['rm', '-f', name]), output: rm.stderr.split('\n') });
      }
      const want = asked();
      const api = await pickPort(want.api, DEFAULT_API_PORT);
      let management = await pickPort(want.management, DEFAULT_MANAGEMENT_PORT);
      if (management === api) management = await freePort();
      if ((want.api === undefined && api !== DEFAULT_API_PORT) || (want.management === undefined && management !== DEFAULT_MANAGEMENT_PORT))
        ctx.notes.push(`port ${DEFAULT_API_PORT}/${DEFAULT_MANAGEMENT_PORT} busy, using ${api}/${management} instead`);
      const ports = { api, management };
      const id = await imageId(env, imageRef());
      if (!id)
        throw new StepFailure(`the image ${imageRef()} is not on this machine`, {
          hint: `rerun \`${up.target.suggest('up')}\` without --skip-build`,
        });
      const runArgs = withConfigLabel(args(ports), configHash(args(ports), id, forwarded));
      io.target(dockerLine(runArgs));
      const started = await io.exec('docker', runArgs, {
        env: { ...env, ...forwarded },
        timeoutMs: 120_000,
        hint: `\`docker rm -f ${name}\` removes a container left in the way`,
      });
      const containerId = started.stdout.trim().split('\n').at(-1) ?? name;
      io.log(`container ${containerId.slice(0, 12)}, waiting for /readyz on :${management}`);
      try {
        await waitForControlPlane(env, containerId, management, { timeoutMs: 60_000, signal: io.signal });
      } catch (error) {
        // Nothing would use a control plane that never got ready; its restart policy would keep it looping.
        await docker(env, ['rm', '-f', containerId]);
        throw error;
      }
      io.log(`ready: API http://127.0.0.1:${api}, management http://127.0.0.1:${management}`);
      publish(ctx, ports);
    },
  };
}
