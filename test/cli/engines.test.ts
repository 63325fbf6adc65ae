/**
 * A fresh `npm ci` must not warn EBADENGINE: every locked package has to run on the oldest Node
 * the project's own `engines` admits (cookie 2 wanting Node 22 under engines >= 20.18.1 did).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_MIN } from '../../src/targets/local/toolchains.js';

const REPO = join(import.meta.dirname, '..', '..');
// semver is in node_modules through fastify; it is the parser npm itself uses for engines.
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface LockEntry {
  version?: string;
  engines?: Record<string, string> | string[];
}

describe('package-lock.json engines', () => {
  const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const minimum = semver.minVersion(root.engines.node)!.version;

  it('the root engines.node has a minimum', () => {
    expect(minimum).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it(`every locked package admits Node ${minimum}, the root engines minimum`, () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .filter(([, entry]) => !semver.satisfies(minimum, (entry.engines as Record<string, string>).node!))
      .map(
        ([path, entry]) =>
          `${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${(entry.engines as Record<string, string>).node}`,
      );
    expect(refusing).toEqual([]);
  });

  it('`up` preflight refuses exactly what engines refuses', () => {
    expect(NODE_MIN.join('.')).toBe(minimum);
  });
});
