/**
 * The input hash of an image: one SHA-256 over everything its build reads, so an image whose hash
 * label matches can be left as it is.
 *
 *   inputHash(rootDir, build, baseId): Promise<string>
 *
 * Inputs: the Dockerfile's text, the build args, the id of every base image (FROM, build stages
 * left out; `baseId` asks the host that builds, so a rebuilt base changes its dependents' hashes),
 * `.dockerignore`, and every file the COPY/ADD lines name, read from the local tree `rootDir`
 * (the VM builds from a copy of that same tree).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageBuild } from '../targets/cluster/images.js';

/** The id of a base image on the host that builds, or undefined when it has none. */
export type BaseImageId = (ref: string) => Promise<string | undefined>;

export function sha256(...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex');
}

/**
 * Directories a build never receives whatever COPY names: the directory entries of .dockerignore
 * (which keeps the images' own node_modules, dist and jars out of the context).
 */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'target', '__pycache__', '.git']);

/**
 * Hash of a file or a directory tree under `root`: relative paths, the executable bit and contents,
 * in a stable order, generated directories skipped. A missing path hashes as missing, so creating
 * it changes the hash.
 */
export function treeHash(root: string, rel: string): string {
  const h = createHash('sha256');
  const walk = (r: string): void => {
    const st = statSync(join(root, r), { throwIfNoEntry: false });
    if (!st) {
      h.update(`missing ${r}\0`);
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(join(root, r)).sort()) {
        if (!SKIPPED_DIRS.has(name) && !name.endsWith('.tsbuildinfo')) walk(join(r, name));
      }
      return;
    }
    h.update(`${r} ${st.mode & 0o111 ? 'x' : '-'}\0`)
      .update(readFileSync(join(root, r)))
      .update('\0');
  };
  walk(rel);
  return h.digest('hex');
}

/** ARG values in effect: each default (which may use earlier ARGs), replaced by a build arg of the same name. */
export function argExpander(text: string, buildArgs: Readonly<Record<string, string>>): (s: string) => string {
  const values: Record<string, string> = {};
  const expand = (s: string) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? '');
  for (const m of text.matchAll(/^ARG\s+(\w+)(?:=(\S+))?/gm)) {
    const name = m[1]!;
    values[name] = buildArgs[name] ?? (m[2] === undefined ? (values[name] ?? '') : expand(m[2]));
  }
  return expand;
}

/** The image each FROM builds on (ARGs expanded, its own build stages left out), in order, one per FROM. */
export function baseImages(text: string, buildArgs: Readonly<Record<string, string>> = {}): string[] {
  const expand = argExpander(text, buildArgs);
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const m of text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const ref = expand(m[1]!);
    if (!stages.has(ref)) bases.push(ref);
    if (m[2]) stages.add(m[2]);
  }
  return bases;
}

/** The paths (relative to the repository root) the COPY/ADD lines take from the build context. */
export function copiedPaths(text: string, build: Pick<ImageBuild, 'context' | 'buildArgs'>): string[] {
  const expand = argExpander(text, build.buildArgs);
  const paths: string[] = [];
  for (const m of text.matchAll(/^(?:COPY|ADD)\s+(.+)$/gim)) {
    const words = m[1]!.trim().split(/\s+/);
    // From another stage, not from the context.
    if (words.some((w) => w.startsWith('--from='))) continue;
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    for (const src of sources) paths.push(join(build.context, expand(src)));
  }
  return paths;
}

export async function inputHash(rootDir: string, build: ImageBuild, baseId: BaseImageId): Promise<string> {
  const text = readFileSync(join(rootDir, build.dockerfile), 'utf8');
  const bases: [string, string][] = [];
  for (const ref of baseImages(text, build.buildArgs)) bases.push([ref, (await baseId(ref)) ?? 'missing']);
  const copied = copiedPaths(text, build).map((rel) => [rel, treeHash(rootDir, rel)]);
  return sha256(text, build.buildArgs, bases, copied, treeHash(rootDir, '.dockerignore'));
}
