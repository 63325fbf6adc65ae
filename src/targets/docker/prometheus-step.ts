import type { Step } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import { prometheusStep as localPrometheusStep } from '../local/prometheus-step.js';
import type { UpContext } from '../target.js';
import { functionEndpoints } from './containers.js';
import type { DockerUp } from './up-state.js';

/**
 * The local target's Prometheus (the host binary, scraping 127.0.0.1): the function containers
 * share the host's network, so their runtimes' ports are scraped like local runtime processes;
 * they are found by the owner label instead of in /proc.
 */
export function prometheusStep(up: DockerUp): Step<UpContext> {
  const { env } = up.target;
  const runtimeTargets = async (state: StateDir) => {
    const targets = (await functionEndpoints(env, up.owner)).map((f) => ({
      targets: [`127.0.0.1:${f.port}`],
      labels: { function: f.function },
    }));
    state.writeJson(targets, 'prometheus', 'runtimes.json');
    return targets.length;
  };
  return localPrometheusStep(up, { target: 'docker', runtimeTargets });
}
