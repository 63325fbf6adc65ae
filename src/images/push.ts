/**
 * Pushing images to a registry from any Host.
 *
 *   pushImages(images: PushImage[], opts: PushImagesOptions): Promise<ImagePushResult[]>
 *   pushPlan(images, opts): string[]   (the commands, for a dry run; runs nothing)
 *   toRegistry(registry, names): PushImage[]
 *
 * Each image is tagged with its registry reference when it was built under another name, then
 * `docker push`ed. There is no "already there?" check of our own: a push whose layers and manifest
 * the registry already holds is cheap (with Debian's docker-registry here, about 0.1 s per image
 * with its `docker tag`, 1.0-1.4 s for all nine; docs/images.md), so asking first would save little.
 */
import { StepFailure } from '../pipeline/step.js';
import { inRegistry } from '../targets/cluster/images.js';
import { type DockerOn, runDocker, showDocker } from './docker-on.js';

/** `source`: the local image; `ref`: its reference in the registry (the same when it was built under it). */
export interface PushImage {
  source: string;
  ref: string;
}

export interface PushImagesOptions extends DockerOn {
  /** What to try when a push fails. */
  hint?: string;
  /** Called after each image. */
  onImage?: (result: ImagePushResult) => void;
}

export interface ImagePushResult {
  ref: string;
  /** The manifest digest the registry reported (sha256:…), when the output named it. */
  digest?: string;
  seconds: number;
}

/** nanofaas/x:1 under localhost:5000 → {source: nanofaas/x:1, ref: localhost:5000/nanofaas/x:1}. */
export function toRegistry(registry: string, images: readonly string[]): PushImage[] {
  return images.map((source) => ({ source, ref: inRegistry(registry, source) }));
}

function commands(image: PushImage): string[][] {
  const push = ['push', image.ref];
  return image.source === image.ref ? [push] : [['tag', image.source, image.ref], push];
}

export function pushPlan(images: readonly PushImage[], opts: Pick<DockerOn, 'host' | 'docker'>): string[] {
  return images.flatMap((image) => commands(image).map((args) => showDocker(opts, args)));
}

export async function pushImages(images: readonly PushImage[], opts: PushImagesOptions): Promise<ImagePushResult[]> {
  const results: ImagePushResult[] = [];
  for (const image of images) {
    if (opts.io?.signal.aborted) throw new StepFailure('interrupted between image pushes');
    const started = performance.now();
    let output = '';
    for (const args of commands(image)) output = (await runDocker(opts, args, opts.hint ? { hint: opts.hint } : {})).stdout;
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
    const done: ImagePushResult = { ref: image.ref, ...(digest ? { digest } : {}), seconds: (performance.now() - started) / 1000 };
    results.push(done);
    opts.onImage?.(done);
  }
  return results;
}
