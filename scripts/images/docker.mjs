// What the image scripts share: the docker CLI, content hashes and the labels that carry them.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

/** The label that holds an image's input hash: equal hash → the build is skipped. */
export const HASH_LABEL = 'dev.nanofaas.inputs';

/** The repository root these scripts work on. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/**
 * The CLI's own image list and catalog helpers (src/targets/cluster/images.ts, src/util/catalog.ts),
 * from its build, so the scripts build and check exactly what the cluster targets deploy.
 */
export async function loadBuiltModules() {
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'targets/cluster/images.js'))) {
    console.error('error: the CLI is not built; run `npx tsc -b` first');
    process.exit(1);
  }
  const images = await import(join(dist, 'targets/cluster/images.js'));
  const catalog = await import(join(dist, 'util/catalog.js'));
  return { ...images, ...catalog };
}

$.verbose = false;
$.quiet = true;

/** The value of HASH_LABEL on a local image, or undefined when the image does not exist. */
export async function imageHash(tag) {
  const out = await $`docker image inspect --format ${`{{ index .Config.Labels "${HASH_LABEL}" }}`} ${tag}`.nothrow();
  if (out.exitCode !== 0) return undefined;
  return out.stdout.trim();
}

/** The image id of a local image (undefined when missing): a rebuilt base changes its dependents' hashes. */
export async function imageId(tag) {
  const out = await $`docker image inspect --format {{.Id}} ${tag}`.nothrow();
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

export async function imageSize(tag) {
  const out = await $`docker image inspect --format {{.Size}} ${tag}`;
  return Number(out.stdout.trim());
}

/** Fails with one line saying how to start the engine when it does not answer. */
export async function assertEngine() {
  const out = await $`docker info --format {{.ServerVersion}}`.nothrow();
  if (out.exitCode !== 0) {
    console.error('error: the Docker engine does not answer; start it (e.g. `dockerd > /tmp/dockerd.log 2>&1 &`) and run this again');
    process.exit(1);
  }
}

export function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex');
}

export async function fileSha256(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest('hex');
}

export function formatMb(bytes) {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}
