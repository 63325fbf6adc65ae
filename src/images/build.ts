/**
 * Incremental image builds on any Host: an image whose hash label equals the hash of its inputs is
 * left as it is; any other is built with `docker build --network host --label <HASH_LABEL>=<hash>`.
 *
 *   buildImages(builds, opts: BuildImagesOptions): Promise<ImageBuildResult[]>
 *   buildPlan(builds, opts): string[]   (the commands, for a dry run; runs nothing)
 *
 * The hash is computed from the local tree `rootDir` (src/images/input-hash.ts); the base image
 * ids in it, the label and the build come from the host that builds, in `repoDir` there.
 */
import { StepFailure } from '../pipeline/step.js';
import { assertDockerfiles, dockerBuildArgv, type ImageBuild } from '../targets/cluster/images.js';
import { type DockerOn, probeDocker, runDocker, showDocker } from './docker-on.js';
import { inputHash } from './input-hash.js';

/** The label that holds an image's input hash. */
export const HASH_LABEL = 'dev.nanofaas.inputs';

export interface BuildImagesOptions extends DockerOn {
  /** The local tree the input hash is computed from. */
  rootDir: string;
  /** The same tree's path on the host that builds; default `rootDir`. */
  repoDir?: string;
  /** The tag `docker build -t` gets; default the image's own name (e.g. nanofaas/x:0.1.0). */
  tag?: (build: ImageBuild) => string;
  /** Build even when the label matches. */
  force?: boolean;
  /** What to try when a build fails. */
  hint?: (build: ImageBuild) => string;
  /** Called after each image. */
  onImage?: (result: ImageBuildResult) => void;
}

export interface ImageBuildResult {
  image: string;
  tag: string;
  hash: string;
  result: 'built' | 'up to date';
  seconds: number;
}

/** The label's value read back; empty when the label or the image is missing. */
const LABEL_FORMAT = `{{with .Config.Labels}}{{index . "${HASH_LABEL}"}}{{end}}`;

function inspectLabelArgs(tag: string): string[] {
  return ['image', 'inspect', '--format', LABEL_FORMAT, tag];
}

function buildArgs(build: ImageBuild, tag: string, hash: string, repoDir: string): string[] {
  // Host networking: the only network a build may use here (npm registry, Debian mirrors).
  return ['build', '--network', 'host', '--label', `${HASH_LABEL}=${hash}`, ...dockerBuildArgv(build, tag, repoDir, []).slice(1)];
}

export function buildPlan(builds: readonly ImageBuild[], opts: Omit<BuildImagesOptions, 'io' | 'onImage'>): string[] {
  const repoDir = opts.repoDir ?? opts.rootDir;
  return builds.flatMap((b) => {
    const tag = opts.tag?.(b) ?? b.image;
    const build = `${showDocker(opts, buildArgs(b, tag, '<inputs hash>', repoDir))}`;
    return opts.force
      ? [build]
      : [`${showDocker(opts, inspectLabelArgs(tag))}`, `${build}   (unless ${tag} already carries the inputs hash)`];
  });
}

/**
 * The builds whose image on the host is missing or carries another inputs hash: what
 * `buildImages` would build (read-only; a step's skip check asks it).
 */
export async function staleBuilds(builds: readonly ImageBuild[], opts: Omit<BuildImagesOptions, 'io' | 'onImage'>): Promise<ImageBuild[]> {
  assertDockerfiles(opts.rootDir, builds);
  const baseId = baseIds(opts);
  const stale: ImageBuild[] = [];
  for (const build of builds) {
    const current = await probeDocker(opts, inspectLabelArgs(opts.tag?.(build) ?? build.image));
    const hash = await inputHash(opts.rootDir, build, baseId);
    if (opts.force || current.exitCode !== 0 || current.stdout.trim() !== hash) stale.push(build);
  }
  return stale;
}

/** Base image ids from the building host's docker: several images share a base, so each is asked once. */
function baseIds(opts: DockerOn): (ref: string) => Promise<string | undefined> {
  const ids = new Map<string, Promise<string | undefined>>();
  return (ref: string) => {
    if (!ids.has(ref)) {
      ids.set(
        ref,
        probeDocker(opts, ['image', 'inspect', '--format', '{{.Id}}', ref]).then((r) =>
          r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined,
        ),
      );
    }
    return ids.get(ref)!;
  };
}

export async function buildImages(builds: readonly ImageBuild[], opts: BuildImagesOptions): Promise<ImageBuildResult[]> {
  assertDockerfiles(opts.rootDir, builds);
  const repoDir = opts.repoDir ?? opts.rootDir;
  const baseId = baseIds(opts);
  const results: ImageBuildResult[] = [];
  for (const build of builds) {
    if (opts.io?.signal.aborted) throw new StepFailure('interrupted between image builds');
    const started = performance.now();
    const tag = opts.tag?.(build) ?? build.image;
    const hash = await inputHash(opts.rootDir, build, baseId);
    let result: ImageBuildResult['result'] = 'up to date';
    const current = opts.force ? undefined : await probeDocker(opts, inspectLabelArgs(tag));
    if (current?.exitCode !== 0 || current.stdout.trim() !== hash) {
      await runDocker(opts, buildArgs(build, tag, hash, repoDir), {
        hint: opts.hint?.(build) ?? `the Dockerfile is ${build.dockerfile}`,
      });
      result = 'built';
    }
    const done: ImageBuildResult = { image: build.image, tag, hash, result, seconds: (performance.now() - started) / 1000 };
    results.push(done);
    opts.io?.log(describeBuild(done));
    opts.onImage?.(done);
  }
  return results;
}

/** "nanofaas/x:1: up to date (hash 0123456789ab)" or "…: built in 12.3 s". */
export function describeBuild(r: ImageBuildResult): string {
  return r.result === 'built' ? `${r.tag}: built in ${r.seconds.toFixed(1)} s` : `${r.tag}: up to date (hash ${r.hash.slice(0, 12)})`;
}
