import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure } from '../../pipeline/step.js';
import type { CatalogFunction } from '../../util/catalog.js';

/** One `docker build` the cluster targets run: paths relative to the repository root. */
export interface ImageBuild {
  /** Name without registry, e.g. nanofaas/word-stats-python:0.1.0 (catalog `image`). */
  image: string;
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
}

export function controlPlaneImage(rootDir: string): string {
  const { version } = JSON.parse(readFileSync(join(rootDir, 'control-plane', 'package.json'), 'utf8')) as { version: string };
  return `nanofaas/control-plane:${version}`;
}

/**
 * Where a function image's Dockerfile is: its own (functions/<workload>/<runtime>/Dockerfile) when
 * it has one, else the runtime's (runtimes/<runtime>/Dockerfile, exec → watchdog) with
 * `--build-arg FUNCTION=<workload>` (plus FUNCTION_CLASS for Java, from the catalog handler).
 * The build context is the repository root so Dockerfiles can copy shared code.
 */
export function functionImageBuild(rootDir: string, fn: CatalogFunction): ImageBuild {
  const own = join('functions', fn.workload, fn.runtime, 'Dockerfile');
  if (existsSync(join(rootDir, own))) return { image: fn.image, dockerfile: own, context: '.', buildArgs: {} };
  const runtimeDir = fn.runtime === 'exec' ? 'watchdog' : fn.runtime;
  const javaClass = fn.runtime === 'java' ? fn.handler.split('#')[1] : undefined;
  return {
    image: fn.image,
    dockerfile: join('runtimes', runtimeDir, 'Dockerfile'),
    context: '.',
    buildArgs: { FUNCTION: fn.workload, ...(javaClass ? { FUNCTION_CLASS: javaClass } : {}) },
  };
}

export function imageBuilds(rootDir: string, functions: readonly CatalogFunction[]): ImageBuild[] {
  return [
    { image: controlPlaneImage(rootDir), dockerfile: join('control-plane', 'Dockerfile'), context: '.', buildArgs: {} },
    ...functions.map((fn) => functionImageBuild(rootDir, fn)),
  ];
}

/** nanofaas/x:1.2 → {repository: nanofaas/x, tag: 1.2} */
export function splitImage(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port (localhost:5000/x), not a tag.
  if (at === -1 || at < ref.lastIndexOf('/')) return { repository: ref, tag: 'latest' };
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/** Where an image is pushed and pulled: the registry prefix, the repository under it, the tag, and the full reference. */
export interface PlacedImage {
  registry: string;
  repository: string;
  tag: string;
  ref: string;
}

/**
 * The registry value is a prefix (host[:port][/path]) and images are `<registry>/<image>`, except
 * that a prefix already ending in the image's namespace does not repeat it:
 * localhost:5000 + nanofaas/x:1 → localhost:5000/nanofaas/x:1, and
 * registry.example.com/nanofaas + nanofaas/x:1 → registry.example.com/nanofaas/x:1 (not …/nanofaas/nanofaas/x:1).
 * No registry: the image name as it is (prebuilt images pulled by their own names).
 */
export function placeImage(registry: string | undefined, image: string): PlacedImage {
  const { repository, tag } = splitImage(image);
  const prefix = (registry ?? '').trim().replace(/\/+$/, '');
  if (!prefix) return { registry: '', repository, tag, ref: `${repository}:${tag}` };
  const slash = repository.indexOf('/');
  const namespace = slash === -1 ? undefined : repository.slice(0, slash);
  const lastPrefixPart = prefix.includes('/') ? prefix.slice(prefix.lastIndexOf('/') + 1) : undefined;
  const under = namespace !== undefined && lastPrefixPart === namespace ? repository.slice(slash + 1) : repository;
  return { registry: prefix, repository: under, tag, ref: `${prefix}/${under}:${tag}` };
}

export function inRegistry(registry: string, image: string): string {
  return placeImage(registry, image).ref;
}

/** `docker build` argv for one image, paths under `repoDir` (on the machine that builds). */
export function dockerBuildArgv(build: ImageBuild, tag: string, repoDir: string, docker: readonly string[] = ['docker']): string[] {
  const args = Object.entries(build.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  return [
    ...docker,
    'build',
    '-t',
    tag,
    '-f',
    `${repoDir}/${build.dockerfile}`,
    ...args,
    `${repoDir}/${build.context}`.replace(/\/\.$/, ''),
  ];
}

/** Builds whose Dockerfile is not in the project: reported before anything is built. */
export function missingDockerfiles(rootDir: string, builds: readonly ImageBuild[]): string[] {
  return builds.filter((b) => !existsSync(join(rootDir, b.dockerfile))).map((b) => `${b.image} (${b.dockerfile})`);
}

export function assertDockerfiles(rootDir: string, builds: readonly ImageBuild[]): void {
  const missing = missingDockerfiles(rootDir, builds);
  if (missing.length > 0) {
    throw new StepFailure(`no Dockerfile for ${missing.length} image(s): ${missing.join(', ')}`, {
      hint: 'add the Dockerfile, limit the functions (--functions / --runtimes), or use prebuilt images with SKIP_BUILD=true',
    });
  }
}
