import type { Target, TargetFactory } from '../target.js';
import { buildSteps } from './build-steps.js';
import { controlPlaneStep } from './control-plane-step.js';
import { deployStep } from './deploy-step.js';
import { dockerDoctorChecks } from './doctor.js';
import { dockerDownSteps } from './down-steps.js';
import { imageSteps } from './image-steps.js';
import { dockerLogs } from './logs.js';
import { preflightStep } from './preflight-step.js';
import { prometheusStep } from './prometheus-step.js';
import { registryStep } from './registry-step.js';
import { dockerEndpoints, dockerStatus } from './status.js';
import { DockerUp } from './up-state.js';

/** `--target docker`: the control plane (docker backend) and its functions as containers on this machine's engine, images from a local registry. */
export const createTarget: TargetFactory = (target): Target => ({
  name: 'docker',
  describe: () => 'containers on the Docker engine of this machine (docker backend)',
  endpoints: () => dockerEndpoints(target),

  upSteps(options) {
    const up = new DockerUp(target, options);
    return [
      preflightStep(up),
      ...buildSteps(up),
      registryStep(up),
      ...imageSteps(up),
      controlPlaneStep(up),
      deployStep(up),
      prometheusStep(up),
    ];
  },

  downSteps: (options) => dockerDownSteps(target, options),
  statusOf: () => dockerStatus(target),
  doctorChecks: () => dockerDoctorChecks(target),
  logs: (fn, options) => dockerLogs(target, fn, options),
});
