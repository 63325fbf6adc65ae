#!/usr/bin/env node
// `npm run images:build`: builds every image the targets deploy (the control plane and each demo
// function's runtime image, as src/targets/cluster/images.ts lists them) with the CLI's own image
// code (src/images/build.ts, from its build in dist/): `docker build --network host`, skipped for
// an image whose hash label equals the hash of its inputs (the Dockerfile, the build args, the
// files its COPY lines name, the base images' ids). The targets build through the same code.
//
//   npm run images:build [-- --only <name-part>] [--force]
//
// Here, where no base image can be pulled, run `npm run images:stand-ins` first (docs/images.md).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assertEngine, formatMb, imageSize, loadBuiltModules, ROOT } from './docker.mjs';

const { imageBuilds, loadCatalog } = await loadBuiltModules();
const { buildImages } = await import(join(ROOT, 'dist/images/build.js'));
const { LocalHost } = await import(join(ROOT, 'dist/targets/host/local-host.js'));

async function main() {
  const { values: opts } = parseArgs({ options: { only: { type: 'string' }, force: { type: 'boolean', default: false } } });
  await assertEngine();
  const builds = imageBuilds(ROOT, loadCatalog(ROOT).functions).filter((b) => !opts.only || b.image.includes(opts.only));
  const t0 = performance.now();
  // Each image's line as it finishes, in order, with its size.
  let printed = Promise.resolve();
  try {
    await buildImages(builds, {
      host: new LocalHost(),
      rootDir: ROOT,
      force: opts.force,
      onImage: (r) => {
        const size = imageSize(r.tag);
        const hash = r.result === 'built' ? '' : ` (hash ${r.hash.slice(0, 12)})`;
        printed = printed.then(async () =>
          console.log(`${r.tag}: ${r.result}${hash} in ${r.seconds.toFixed(1)} s, ${formatMb(await size)}`),
        );
      },
    });
  } catch (err) {
    console.error(err.message);
    console.error('error: an image did not build; the output above says why');
    process.exit(1);
  }
  await printed;
  console.log(`${builds.length} image(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await main();
