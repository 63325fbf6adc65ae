/**
 * The input hash of an image, over a real tree in a temp directory: it moves when something the
 * build reads moves (a COPY'd file, a build arg, a base image's id, the Dockerfile, .dockerignore)
 * and stays when something it does not read changes (another file, node_modules, dist).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseImages, copiedPaths, inputHash } from '../../src/images/input-hash.js';
import type { ImageBuild } from '../../src/targets/cluster/images.js';

const DOCKERFILE = `ARG NODE_IMAGE=node:20-slim
FROM \${NODE_IMAGE} AS build
ARG FUNCTION=word-stats
ARG FUNCTION_DIR=functions/\${FUNCTION}/node
COPY tsconfig.base.json ./
COPY runtimes/node runtimes/node
COPY \${FUNCTION_DIR} \${FUNCTION_DIR}
FROM debian:bookworm-slim
COPY --from=build /out/function function
COPY --chown=10001 runtimes/shared/start.sh /start.sh
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(): { root: string; write: (rel: string, text: string) => void } {
  const root = mkdtempSync(join(tmpdir(), 'nanofaas-input-hash-'));
  dirs.push(root);
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  write('Dockerfile', DOCKERFILE);
  write('.dockerignore', '**/node_modules\n**/dist\n');
  write('tsconfig.base.json', '{}\n');
  write('runtimes/node/src/index.ts', 'export const x = 1;\n');
  write('runtimes/node/package.json', '{"name":"runtime"}\n');
  write('runtimes/shared/start.sh', '#!/bin/sh\nexec node\n');
  write('functions/word-stats/node/index.ts', 'export default () => 1;\n');
  write('functions/json-transform/node/index.ts', 'export default () => 2;\n');
  write('README.md', 'not copied\n');
  return { root, write };
}

const build = (buildArgs: Record<string, string> = {}): ImageBuild => ({
  image: 'nanofaas/x:1',
  dockerfile: 'Dockerfile',
  context: '.',
  buildArgs,
});
const ids: Record<string, string> = { 'node:20-slim': 'sha256:node-1', 'debian:bookworm-slim': 'sha256:debian-1' };
const baseId = async (ref: string) => ids[ref];

describe('what a Dockerfile reads', () => {
  it('bases: ARG defaults and build args expanded, its own stages left out; COPY sources: not --from, options skipped', () => {
    expect(baseImages(DOCKERFILE)).toEqual(['node:20-slim', 'debian:bookworm-slim']);
    expect(baseImages(DOCKERFILE, { NODE_IMAGE: 'node:22' })).toEqual(['node:22', 'debian:bookworm-slim']);
    expect(copiedPaths(DOCKERFILE, build({ FUNCTION: 'json-transform' }))).toEqual([
      'tsconfig.base.json',
      'runtimes/node',
      'functions/json-transform/node',
      'runtimes/shared/start.sh',
    ]);
  });
});

describe('input hash', () => {
  it('is a stable SHA-256 of the same inputs', async () => {
    const { root } = tree();
    const a = await inputHash(root, build(), baseId);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await inputHash(root, build(), baseId)).toBe(a);
  });

  it('changes when a COPYed file changes, is added, or becomes executable', async () => {
    const { root, write } = tree();
    const before = await inputHash(root, build(), baseId);
    write('runtimes/node/src/index.ts', 'export const x = 2;\n');
    const edited = await inputHash(root, build(), baseId);
    expect(edited).not.toBe(before);
    write('runtimes/node/src/extra.ts', 'export {};\n');
    const added = await inputHash(root, build(), baseId);
    expect(added).not.toBe(edited);
    chmodSync(join(root, 'runtimes/shared/start.sh'), 0o755);
    expect(await inputHash(root, build(), baseId)).not.toBe(added);
  });

  it("changes with the function's own directory only for the function built", async () => {
    const { root, write } = tree();
    const wordStats = await inputHash(root, build(), baseId);
    const jsonTransform = await inputHash(root, build({ FUNCTION: 'json-transform' }), baseId);
    write('functions/json-transform/node/index.ts', 'export default () => 3;\n');
    expect(await inputHash(root, build(), baseId)).toBe(wordStats);
    expect(await inputHash(root, build({ FUNCTION: 'json-transform' }), baseId)).not.toBe(jsonTransform);
  });

  it('changes when a build arg changes', async () => {
    const { root } = tree();
    const before = await inputHash(root, build({ FUNCTION: 'word-stats' }), baseId);
    expect(await inputHash(root, build({ FUNCTION: 'word-stats', EXTRA: '1' }), baseId)).not.toBe(before);
  });

  it('changes when a base image id changes or the base is missing', async () => {
    const { root } = tree();
    const before = await inputHash(root, build(), baseId);
    expect(await inputHash(root, build(), async (ref) => (ref === 'debian:bookworm-slim' ? 'sha256:debian-2' : ids[ref]))).not.toBe(before);
    expect(await inputHash(root, build(), async (ref) => (ref === 'node:20-slim' ? undefined : ids[ref]))).not.toBe(before);
  });

  it('changes when the Dockerfile or .dockerignore changes', async () => {
    const { root, write } = tree();
    const before = await inputHash(root, build(), baseId);
    write('.dockerignore', '**/node_modules\n');
    const ignore = await inputHash(root, build(), baseId);
    expect(ignore).not.toBe(before);
    write('Dockerfile', `${DOCKERFILE}USER 10001\n`);
    expect(await inputHash(root, build(), baseId)).not.toBe(ignore);
  });

  it('does not change when a file no COPY names changes, nor node_modules, dist or .tsbuildinfo under a COPYed tree', async () => {
    const { root, write } = tree();
    const before = await inputHash(root, build(), baseId);
    write('README.md', 'edited\n');
    write('functions/json-transform/node/index.ts', 'export default () => 9;\n');
    write('runtimes/node/node_modules/dep/index.js', 'module.exports = 1;\n');
    write('runtimes/node/dist/index.js', 'exports.x = 1;\n');
    write('runtimes/node/tsconfig.tsbuildinfo', '{}\n');
    expect(await inputHash(root, build(), baseId)).toBe(before);
    write('runtimes/node/node_modules/dep/index.js', 'module.exports = 2;\n');
    expect(await inputHash(root, build(), baseId)).toBe(before);
  });

  it('asks for each base image id through the callback (the host that builds), never reading an image itself', async () => {
    const { root } = tree();
    const asked: string[] = [];
    await inputHash(root, build(), async (ref) => {
      asked.push(ref);
      return ids[ref];
    });
    expect(asked).toEqual(['node:20-slim', 'debian:bookworm-slim']);
  });
});
