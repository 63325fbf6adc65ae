import type { Target, TargetFactory } from '../target.js';
import { buildSteps } from './build-steps.js';
import { controlPlaneStep } from './control-plane-step.js';
import { deployStep } from './deploy-step.js';
import { localDoctorChecks } from './doctor.js';
import { localDownSteps } from './down-steps.js';
import { natsStep } from './nats-step.js';
import { localLogs } from './logs.js';
import { preflightStep } from './preflight-step.js';
import { prometheusStep } from './prometheus-step.js';
import { localEndpoints, localStatus } from './status.js';
import { LocalUp } from './up-state.js';

/** `--target local`: the control plane (process backend), its runtimes and Prometheus as processes on this machine. */
export const createTarget: TargetFactory = (target): Target => ({
  name: 'local',
  describe: () => 'processes on this machine (process backend)',
  endpoints: async () => localEndpoints(target),

  upSteps(options) {
    const up = new LocalUp(target, options);
    return [preflightStep(up), ...buildSteps(up), natsStep(up), controlPlaneStep(up), deployStep(up), prometheusStep(up)];
  },

  downSteps: () => localDownSteps(target),
  statusOf: () => localStatus(target),
  doctorChecks: () => localDoctorChecks(target),
  logs: (fn, options) => localLogs(target, fn, options),
});
