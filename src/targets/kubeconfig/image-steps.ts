import type { Step } from '../../pipeline/step.js';
import { buildImages, buildPlan } from '../../images/build.js';
import { pushImages, pushPlan } from '../../images/push.js';
import { type ImageBuild, imageBuilds, inRegistry, placeImage } from '../cluster/images.js';
import { LocalHost } from '../host/local-host.js';
import type { UpContext } from '../target.js';
import type { KubeconfigUpInput } from './up-steps.js';

/** The images, built with this machine's docker and pushed to NANOFAAS_REGISTRY; or, with --no-build, only named. */
export function imageSteps(input: KubeconfigUpInput): Step<UpContext>[] {
  const registry = input.cfg.registry;
  const builds = imageBuilds(input.rootDir, input.functions);
  if (input.skipBuild) return [prebuiltImagesStep(builds, registry)];
  const local = { host: new LocalHost(input.run) };
  // The tags are the registry references, so a push needs no `docker tag`.
  const tag = (b: ImageBuild) => inRegistry(registry!, b.image);
  const pushes = builds.map((b) => ({ source: tag(b), ref: tag(b) }));
  const buildOptions = { ...local, rootDir: input.rootDir, tag, hint: (b: ImageBuild) => `Dockerfile: ${b.dockerfile}` };
  return [
    {
      title: `Build ${builds.length} images for ${registry}`,
      plan: () => buildPlan(builds, buildOptions),
      run: async (_ctx, io) => {
        await buildImages(builds, { ...buildOptions, io });
      },
    },
    {
      title: `Push images to ${registry}`,
      plan: () => pushPlan(pushes, local),
      run: async (_ctx, io) => {
        await pushImages(pushes, { ...local, io, hint: `docker login ${registry?.split('/')[0]} first if the registry needs credentials` });
      },
    },
  ];
}

/**
 * --no-build / SKIP_BUILD: nothing is built or pushed; the plan names the images the cluster will
 * pull, from the registry when one is given, else by their own names.
 */
function prebuiltImagesStep(builds: readonly ImageBuild[], registry: string | undefined): Step<UpContext> {
  const refs = builds.map((b) => placeImage(registry, b.image).ref);
  return {
    title: `Use prebuilt images ${registry ? `from ${registry}` : 'by their own names'} (--no-build: no build, no push)`,
    plan: () => refs.map((ref) => `the cluster pulls ${ref}`),
    run: (_ctx, io) => {
      for (const ref of refs) io.log(`the cluster pulls ${ref}`);
    },
  };
}
