import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildImages, buildPlan, HASH_LABEL } from '../../images/build.js';
import { probeDocker } from '../../images/docker-on.js';
import { inputHash } from '../../images/input-hash.js';
import { pushImages, pushPlan, toRegistry } from '../../images/push.js';
import type { Step } from '../../pipeline/step.js';
import { assertDockerfiles, type ImageBuild, imageBuilds } from '../cluster/images.js';
import type { UpContext } from '../target.js';
import type { DockerUp } from './up-state.js';

/**
 * Each image's input hash when every image already carries it in its label (nothing to build),
 * else undefined. The same hash and label `buildImages` uses, checked without building anything.
 */
async function currentHashes(up: DockerUp, builds: readonly ImageBuild[]): Promise<Map<string, string> | undefined> {
  const on = { host: up.host, docker: ['docker'] as const };
  const ids = new Map<string, Promise<string | undefined>>();
  const baseId = (ref: string) => {
    if (!ids.has(ref))
      ids.set(
        ref,
        probeDocker(on, ['image', 'inspect', '--format', '{{.Id}}', ref]).then((r) =>
          r.exitCode === 0 ? r.stdout.trim() || undefined : undefined,
        ),
      );
    return ids.get(ref)!;
  };
  const hashes = new Map<string, string>();
  for (const build of builds) {
    if (!existsSync(join(up.target.rootDir, build.dockerfile))) return undefined;
    const hash = await inputHash(up.target.rootDir, build, baseId);
    const label = await probeDocker(on, ['image', 'inspect', '--format', `{{index .Config.Labels "${HASH_LABEL}"}}`, build.image]);
    if (label.exitCode !== 0 || label.stdout.trim() !== hash) return undefined;
    hashes.set(build.image, hash);
  }
  return hashes;
}

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
      async skip(_ctx, mode) {
        placeRefs();
        // A dry run asks the engine nothing.
        if (mode.dryRun) return false;
        if (up.options.skipBuild) return 'SKIP_BUILD: the images in the registry are used';
        const hashes = await currentHashes(up, builds());
        if (!hashes) return false;
        for (const [image, hash] of hashes) up.imageHashes.set(image, hash);
        return `all ${hashes.size} images up to date`;
      },
      plan: () => (up.options.skipBuild ? ['nothing: --skip-build'] : buildPlan(builds(), { ...on, rootDir })),
      async run(_ctx, io) {
        const all = builds();
        assertDockerfiles(rootDir, all);
        const results = await buildImages(all, {
          ...on,
          io,
          rootDir,
          hint: (b) => `the output above says why (Dockerfile ${b.dockerfile}); docs/images.md says what each image is built from`,
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
