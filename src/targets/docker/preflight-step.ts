import { StepFailure, type Step } from '../../pipeline/step.js';
import type { UpContext } from '../target.js';
import { dockerLine, engineVersion, socketGroup, START_ENGINE_HINT } from './engine.js';
import type { DockerUp } from './up-state.js';

/** The docker CLI is there and the engine answers; the engine socket's group, for the control plane's container. */
export function preflightStep(up: DockerUp): Step<UpContext> {
  const { env } = up.target;
  const selectFunctions = (ctx: UpContext) => {
    up.select();
    for (const fn of up.runnable) ctx.functions.push({ name: fn.name, runtime: fn.runtime });
  };
  return {
    title: 'Preflight: the Docker engine',
    plan(ctx) {
      selectFunctions(ctx);
      // A stat, not an engine call: the plan of the control plane's `docker run` shows the real group.
      up.socketGid = socketGroup(up.socket);
      return [
        dockerLine(['info', '--format', '{{.ServerVersion}}']),
        `stat ${up.socket}   (its group joins the control plane's container)`,
      ];
    },
    async run(ctx, io) {
      io.target(dockerLine(['info']));
      const engine = await engineVersion(env);
      if (engine.problem)
        throw new StepFailure(engine.problem, { hint: engine.problem.includes('not installed') ? undefined : START_ENGINE_HINT });
      up.socketGid = socketGroup(up.socket);
      if (up.socketGid === undefined)
        throw new StepFailure(`the engine answers but its socket ${up.socket} is not there`, {
          hint: 'this target mounts the engine socket into the control plane: set DOCKER_HOST=unix://<path> to the socket the engine listens on',
        });
      io.log(`Docker ${engine.version}, socket ${up.socket} (group ${up.socketGid}), owner ${up.owner}`);
      selectFunctions(ctx);
    },
  };
}
