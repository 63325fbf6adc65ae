import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogFunction } from './catalog.js';

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
 * it has one, else the runtime's (runtimes/<runtime>/Dockerfile) told which handler to bake in.
 * The build context is the repository root so Dockerfiles can copy shared code.
 */
export function functionImageBuild(rootDir: string, fn: CatalogFunction): ImageBuild {
  const own = join('functions', fn.workload, fn.runtime === 'exec' ? 'exec' : fn.runtime, 'Dockerfile');
  if (existsSync(join(rootDir, own))) return { image: fn.image, dockerfile: own, context: '.', buildArgs: {} };
  const runtimeDir = fn.runtime === 'exec' ? 'watchdog' : fn.runtime;
  return {
    image: fn.image,
    dockerfile: join('runtimes', runtimeDir, 'Dockerfile'),
    context: '.',
    buildArgs: { FUNCTION_NAME: fn.name, HANDLER: fn.handler },
  };
}

export function imageBuilds(rootDir: string, functions: readonly CatalogFunction[]): ImageBuild[] {
  return [
    { image: controlPlaneImage(rootDir), dockerfile: join('control-plane', 'Dockerfile'), context: '.', buildArgs: {} },
    ...functions.map((fn) => functionImageBuild(rootDir, fn)),
  ];
}

/** localhost:5000 + nanofaas/x:1 → localhost:5000/nanofaas/x:1 */
export function inRegistry(registry: string, image: string): string {
  return `${registry.replace(/\/+$/, '')}/${image}`;
}

/** `docker build` argv for one image, paths under `repoDir` (on the machine that builds). */
export function dockerBuildArgv(build: ImageBuild, tag: string, repoDir: string, docker: readonly string[] = ['docker']): string[] {
  const args = Object.entries(build.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  return [...docker, 'build', '-t', tag, '-f', `${repoDir}/${build.dockerfile}`, ...args, `${repoDir}/${build.context}`.replace(/\/\.$/, '')];
}
