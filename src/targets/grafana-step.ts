import { composeArgv, findCompose } from '../loadtest/grafana.js';
import { StepFailure, type Step } from '../pipeline/step.js';
import type { StateDir } from '../state/state-dir.js';
import { displayCommand } from '../util/process.js';
import type { DownContext } from './target.js';

/**
 * `down`'s Grafana step, the same on every target: it stops the compose stack only when
 * `loadtest` recorded starting it (<state>/grafana.json), with the env it was started with,
 * and never touches a Grafana someone else runs from the same compose file. It uses whichever
 * Compose answers now (the plugin or the standalone `docker-compose`).
 */
export function stopGrafanaStep(state: StateDir, rootDir: string, env: NodeJS.ProcessEnv): Step<DownContext> {
  const byHand = (composeFile: string) =>
    `stop it by hand: docker compose -f ${composeFile} down (or docker-compose -f ${composeFile} down)`;
  return {
    title: 'Stop Grafana',
    skip: () => (state.grafana() ? false : 'not started by nanofaas'),
    plan: async () => {
      const composeFile = state.grafana()?.composeFile ?? '';
      const compose = (await findCompose(env)) ?? { command: 'docker', args: ['compose'] };
      return [displayCommand(...composeArgv(compose, composeFile, 'down'))];
    },
    async run(ctx, io) {
      const grafana = state.grafana()!;
      const compose = await findCompose(env);
      if (compose === undefined) {
        throw new StepFailure(
          'neither `docker compose version` nor `docker-compose version` works, so the Grafana stack cannot be stopped',
          { hint: byHand(grafana.composeFile) },
        );
      }
      const [command, args] = composeArgv(compose, grafana.composeFile, 'down');
      await io.exec(command, args, {
        cwd: rootDir,
        env: { ...env, ...grafana.env },
        timeoutMs: 120_000,
        hint: byHand(grafana.composeFile),
      });
      state.remove('grafana.json');
      ctx.stopped.push('grafana');
    },
  };
}
