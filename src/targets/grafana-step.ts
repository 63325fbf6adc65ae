import type { Step } from '../pipeline/step.js';
import type { StateDir } from '../state/state-dir.js';
import { displayCommand } from '../util/process.js';
import type { DownContext } from './target.js';

/**
 * `down`'s Grafana step, the same on every target: it stops the compose stack only when
 * `loadtest` recorded starting it (<state>/grafana.json), with the env it was started with,
 * and never touches a Grafana someone else runs from the same compose file.
 */
export function stopGrafanaStep(state: StateDir, rootDir: string, env: NodeJS.ProcessEnv): Step<DownContext> {
  return {
    title: 'Stop Grafana',
    skip: () => (state.grafana() ? false : 'not started by nanofaas'),
    plan: () => [displayCommand('docker', ['compose', '-f', state.grafana()?.composeFile ?? '', 'down'])],
    async run(ctx, io) {
      const grafana = state.grafana()!;
      await io.exec('docker', ['compose', '-f', grafana.composeFile, 'down'], {
        cwd: rootDir,
        env: { ...env, ...grafana.env },
        timeoutMs: 120_000,
        hint: `stop it by hand: docker compose -f ${grafana.composeFile} down`,
      });
      state.remove('grafana.json');
      ctx.stopped.push('grafana');
    },
  };
}
