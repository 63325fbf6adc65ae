import { buildImages, buildPlan } from '../../images/build.js';
import { pushImages, pushPlan, toRegistry } from '../../images/push.js';
import type { Step } from '../../pipeline/step.js';
import { assertDockerfiles, imageBuilds } from '../cluster/images.js';
import type { UpContext } from '../target.js';
import type { DockerUp } from './up-state.js';

/**
 * Build the control plane's and the selected functions' images (each only when its input hash
 * changed), then tag and push them as `<registry>/nanofaas/<name>:<version>`, the references the
 * containers run. With --skip-build neither runs: the images already in the registry are used.
 */
export function imageSteps(up: DockerUp): Step<UpContext>[] {
  const { rootDir } = up.target;
  const on = { host: up.host, docker: ['docker'] as const };
  const builds = () => imageBuilds(rootDir, up.runnable);
  const pushes = () =>
    toRegistry(
      up.registry,
      builds().map((b) => b.image),
    );
  const placeRefs = () => {
    for (const p of pushes()) up.refs.set(p.source, p.ref);
  };
  return [
    {
      title: 'Build the images (each when its inputs changed)',
      skip: (_ctx, mode) => {
        placeRefs();
        return up.options.skipBuild && !mode.dryRun ? 'SKIP_BUILD: the images in the registry are used' : false;
      },
      plan: () => (up.options.skipBuild ? ['nothing: --skip-build'] : buildPlan(builds(), { ...on, rootDir })),
      async run(_ctx, io) {
        const all = builds();
        assertDockerfiles(rootDir, all);
        const results = await buildImages(all, {
          ...on,
          io,
          rootDir,
          hint: (b) => `the output above says why (Dockerfile ${b.dockerfile}); no base image can be pulled here: see docs/images.md`,
          onImage: (r) => io.log(`${r.image}: ${r.result}${r.result === 'built' ? ` in ${r.seconds.toFixed(1)} s` : ''}`),
        });
        for (const r of results) up.imageHashes.set(r.image, r.hash);
        const built = results.filter((r) => r.result === 'built').length;
        io.log(built === 0 ? `all ${results.length} images up to date` : `${built} of ${results.length} images built`);
      },
    },
    {
      title: `Push the images to ${up.registry}`,
      skip: (_ctx, mode) => (up.options.skipBuild && !mode.dryRun ? 'SKIP_BUILD' : false),
      plan: () => (up.options.skipBuild ? ['nothing: --skip-build'] : pushPlan(pushes(), on)),
      async run(_ctx, io) {
        const results = await pushImages(pushes(), {
          ...on,
          io,
          hint: `is the registry at ${up.registry} still answering? \`${up.target.suggest('doctor')}\` checks it`,
        });
        io.log(`${results.length} images pushed`);
      },
    },
  ];
}
