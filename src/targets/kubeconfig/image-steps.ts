import type { Step } from '../../pipeline/step.js';
import { type ImageBuild, assertDockerfiles, dockerBuildArgv, imageBuilds, inRegistry, placeImage } from '../cluster/images.js';
import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { hostExec } from '../host/step-exec.js';
import type { UpContext } from '../target.js';
import type { KubeconfigUpInput } from './up-steps.js';

/** The images, built with this machine's docker and pushed to NANOFAAS_REGISTRY; or, with --no-build, only named. */
export function imageSteps(input: KubeconfigUpInput): Step<UpContext>[] {
  const registry = input.cfg.registry;
  const builds = imageBuilds(input.rootDir, input.functions);
  if (input.skipBuild) return [prebuiltImagesStep(builds, registry)];
  const local = new LocalHost(input.run);
  const tags = registry ? builds.map((b) => inRegistry(registry, b.image)) : [];
  return [
    {
      title: `Build ${builds.length} images for ${registry}`,
      plan: () => builds.map((b, i) => formatArgv(dockerBuildArgv(b, tags[i]!, input.rootDir))),
      run: async (_ctx, io) => {
        assertDockerfiles(input.rootDir, builds);
        const exec = hostExec(local, io);
        for (const [i, b] of builds.entries())
          await exec(dockerBuildArgv(b, tags[i]!, input.rootDir), { hint: `Dockerfile: ${b.dockerfile}` });
      },
    },
    {
      title: `Push images to ${registry}`,
      plan: () => tags.map((t) => formatArgv(['docker', 'push', t])),
      run: async (_ctx, io) => {
        const exec = hostExec(local, io);
        for (const t of tags)
          await exec(['docker', 'push', t], {
            hint: `docker login ${registry?.split('/')[0]} first if the registry needs credentials`,
          });
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
