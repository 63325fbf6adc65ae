import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogFunction } from '../../util/catalog.js';
import { mtimes } from '../../util/mtime.js';

const TS_SOURCE = (p: string) => (p.endsWith('.ts') && !p.endsWith('.d.ts')) || /tsconfig[^/]*\.json$/.test(p);

/**
 * Is `tsc -b` needed? Compares the newest TypeScript source (and tsconfig) with the oldest
 * .tsbuildinfo. Cheap (a directory walk) so a re-run of `up` stays fast.
 */
export function typescriptUpToDate(rootDir: string): { upToDate: boolean; reason: string } {
  const projects = ['src', 'control-plane', 'runtimes', 'functions'].map((d) => join(rootDir, d));
  const sources = mtimes(projects, TS_SOURCE, new Set(['dist', 'target', '__pycache__']));
  const rootConfigs = ['tsconfig.json', 'tsconfig.base.json', 'tsconfig.cli.json'].map((f) => {
    try {
      return statSync(join(rootDir, f)).mtimeMs;
    } catch {
      return 0;
    }
  });
  const infos = mtimes([join(rootDir, 'dist'), ...projects], (p) => p.endsWith('.tsbuildinfo'), new Set(['src']));
  if (infos.count === 0) return { upToDate: false, reason: 'never built' };
  if (Math.max(sources.newest, ...rootConfigs) > infos.oldest) return { upToDate: false, reason: 'sources changed' };
  return { upToDate: true, reason: `up to date (${sources.count} sources, ${infos.count} projects)` };
}

export function tscCommand(rootDir: string): string[] | undefined {
  const tsc = join(rootDir, 'node_modules', 'typescript', 'bin', 'tsc');
  return existsSync(tsc) ? [process.execPath, tsc, '-b'] : undefined;
}

export function hasScript(rootDir: string, name: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    return typeof pkg.scripts?.[name] === 'string';
  } catch {
    return false;
  }
}

/** Java artifacts are stale when any Java source or pom is newer than the oldest jar (or a jar is missing). */
export function javaUpToDate(rootDir: string, jars: readonly string[]): { upToDate: boolean; reason: string } {
  const missing = jars.filter((j) => !existsSync(join(rootDir, j)));
  if (missing.length > 0) return { upToDate: false, reason: `missing ${missing.join(', ')}` };
  const built = mtimes(
    jars.map((j) => join(rootDir, j, '..')),
    (p) => p.endsWith('.jar'),
  );
  const dirs = [join(rootDir, 'runtimes', 'java'), ...jars.map((j) => join(rootDir, j, '..', '..'))];
  const sources = mtimes(dirs, (p) => p.endsWith('.java') || p.endsWith('pom.xml'), new Set(['target']));
  if (sources.newest > built.oldest) return { upToDate: false, reason: 'sources changed' };
  return { upToDate: true, reason: 'jars up to date' };
}

/** The artifact a catalog function needs on disk before the process backend can launch it. */
export function handlerArtifact(fn: CatalogFunction): string | undefined {
  if (fn.runtime === 'java') return fn.handler.split('#')[0];
  if (fn.runtime === 'node') return fn.handler;
  if (fn.runtime === 'python') return fn.handler.split(':')[0];
  if (fn.runtime === 'exec') return fn.handler.split(/\s+/).find((part) => part.includes('/'));
  return undefined;
}

/** When the artifact was last built (0: not built, or no artifact); a change means the function needs fresh processes. */
export function artifactMtime(rootDir: string, fn: CatalogFunction): number {
  const artifact = handlerArtifact(fn);
  try {
    return artifact ? statSync(join(rootDir, artifact)).mtimeMs : 0;
  } catch {
    return 0;
  }
}
