import type { Step } from '../../pipeline/step.js';
import { buildSteps as localBuildSteps } from '../local/build-steps.js';
import type { UpContext } from '../target.js';
import type { DockerUp } from './up-state.js';

/**
 * The local target's `tsc -b` when the sources changed: the images compile their own sources
 * (the Java image its jars too, so the host's Java build is not needed), but a compiler error
 * shows here in seconds instead of minutes into an image build.
 */
export function buildSteps(up: DockerUp): Step<UpContext>[] {
  return localBuildSteps(up).filter((step) => step.title.startsWith('Build TypeScript'));
}
