/**
 * Every image the targets deploy, run for real on the local Docker engine (`npm test` builds them
 * first, incrementally): `npm run images:check` starts each one read-only, as uid 10001 (no image
 * declares it), with host networking on a free 127.0.0.1 port, waits for it to answer, sends every
 * shared vector of its workload, then stops it with SIGTERM. This suite runs that script and holds
 * each image to its line of the output.
 */
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageBuilds } from '../../src/targets/cluster/images.js';
import { loadCatalog, loadVectors } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';

const catalog = loadCatalog(ROOT_DIR);
const builds = imageBuilds(ROOT_DIR, catalog.functions);

/** The check's verdict per image: its one line of output. */
const lines = new Map<string, string>();
let summary = '';

beforeAll(async () => {
  const run = await execa('node', ['scripts/images/check.mjs'], { cwd: ROOT_DIR, reject: false, all: true });
  for (const line of run.all.split('\n')) {
    const image = builds.find((b) => line.startsWith(`${b.image}: `))?.image;
    if (image) lines.set(image, line.slice(image.length + 2));
  }
  summary = run.exitCode === 0 ? run.all.trim().split('\n').at(-1)! : `exit ${run.exitCode}: ${run.all.slice(-2000)}`;
}, 300_000);

describe('images: read-only, non-root, host network, every vector, SIGTERM', () => {
  it('checks all of them', () => {
    expect(summary).toBe(`${builds.length} image(s) run read-only as uid 10001:10001 and answer`);
  });

  for (const build of builds) {
    const fn = catalog.functions.find((f) => f.image === build.image);
    it(build.image, () => {
      const line = lines.get(build.image);
      expect(line, `no verdict for ${build.image}: is it built? (npm run images:build)`).toBeDefined();
      expect(line).not.toMatch(/FAILED/);
      // Ready, then stopped by its SIGTERM (not killed after the grace period: that would be 137).
      expect(line).toMatch(/^ready in [\d.]+ s, /);
      expect(line).toMatch(/stopped by SIGTERM in [\d.]+ s \(exit (0|143)\)$/);
      if (fn) {
        const vectors = loadVectors(ROOT_DIR, catalog, fn.workload).filter((v) => v.output !== undefined);
        expect(vectors.length).toBeGreaterThan(10);
        expect(line).toContain(`, ${vectors.length} vectors ok,`);
      }
    });
  }
});
