#!/usr/bin/env node
// `npm run images:build`: builds every image the cluster targets deploy (the control plane and each
// demo function's runtime image, as src/targets/cluster/images.ts lists them) with `docker build
// --network host`. Incremental: each image carries a hash of its inputs in a label (the Dockerfile,
// the build args, the files its COPY lines name, the base images' ids), and an image whose hash
// matches is not rebuilt.
//
//   npm run images:build [-- --only <name-part>] [--force]
//
// Here, where no base image can be pulled, run `npm run images:stand-ins` first (docs/images.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { assertEngine, formatMb, HASH_LABEL, imageHash, imageId, imageSize, loadBuiltModules, ROOT, sha256, treeHash } from './docker.mjs';

const root = ROOT;
const { imageBuilds, dockerBuildArgv, loadCatalog } = await loadBuiltModules();

/** ARG values in effect for a Dockerfile: defaults (which may use earlier ARGs), then the build args. */
function argValues(text, buildArgs) {
  const values = {};
  const expand = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => values[a ?? b] ?? '');
  for (const m of text.matchAll(/^ARG\s+(\w+)(?:=(\S+))?/gm)) {
    values[m[1]] = buildArgs[m[1]] ?? (m[2] === undefined ? (values[m[1]] ?? '') : expand(m[2]));
  }
  return { values, expand };
}

/** The inputs an image is built from, as one hash. */
async function inputHash(build) {
  const text = readFileSync(join(root, build.dockerfile), 'utf8');
  const { expand } = argValues(text, build.buildArgs);
  const stages = new Set();
  const bases = [];
  for (const m of text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const ref = expand(m[1]);
    if (!stages.has(ref)) bases.push([ref, (await imageId(ref)) ?? 'missing']);
    if (m[2]) stages.add(m[2]);
  }
  const copied = [];
  for (const m of text.matchAll(/^(?:COPY|ADD)\s+(.+)$/gm)) {
    const words = m[1].trim().split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    for (const src of sources) {
      const rel = join(build.context, expand(src));
      copied.push([rel, treeHash(root, rel)]);
    }
  }
  return sha256(text, build.buildArgs, bases, copied, treeHash(root, '.dockerignore'));
}

async function main() {
  const { values: opts } = parseArgs({ options: { only: { type: 'string' }, force: { type: 'boolean', default: false } } });
  await assertEngine();
  const builds = imageBuilds(root, loadCatalog(root).functions).filter((b) => !opts.only || b.image.includes(opts.only));
  const rows = [];
  const t0 = performance.now();
  for (const build of builds) {
    const start = performance.now();
    const hash = await inputHash(build);
    let result = 'up to date';
    if (opts.force || (await imageHash(build.image)) !== hash) {
      const argv = dockerBuildArgv(build, build.image, root);
      // Host networking: the only network builds may use (npm registry, Debian mirrors).
      argv.splice(argv.indexOf('build') + 1, 0, '--network', 'host', '--label', `${HASH_LABEL}=${hash}`);
      const [cmd, ...args] = argv;
      const out = await $({ cwd: root })`${cmd} ${args}`.nothrow();
      if (out.exitCode !== 0) {
        console.error(out.stdout.split('\n').slice(-30).join('\n'));
        console.error(out.stderr);
        console.error(`error: ${build.image} did not build (${build.dockerfile}); the output above says why`);
        process.exit(1);
      }
      result = 'built';
    }
    const seconds = (performance.now() - start) / 1000;
    const size = await imageSize(build.image);
    rows.push({ image: build.image, result, seconds, size });
    console.log(`${build.image}: ${result} in ${seconds.toFixed(1)} s, ${formatMb(size)}`);
  }
  console.log(`${rows.length} image(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await main();
