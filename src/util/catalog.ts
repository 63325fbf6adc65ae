import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionSpecInput, RuntimeName } from '@nanofaas/control-plane/contracts';

/** One entry of functions/catalog.json. */
export interface CatalogFunction {
  name: string;
  workload: string;
  runtime: RuntimeName;
  image: string;
  handler: string;
  spec: Partial<FunctionSpecInput>;
}

export interface Catalog {
  workloads: Record<string, { vectors: string; check: string }>;
  functions: CatalogFunction[];
}

/** A shared test vector from functions/testdata/<workload>.json. */
export interface Vector {
  name: string;
  input: unknown;
  output?: unknown;
  error?: string;
}

export function loadCatalog(rootDir: string): Catalog {
  const path = join(rootDir, 'functions', 'catalog.json');
  const catalog = JSON.parse(readFileSync(path, 'utf8')) as Catalog;
  if (!Array.isArray(catalog.functions)) throw new Error(`${path}: "functions" must be an array`);
  return catalog;
}

/** The vectors of a workload, or [] when the file is not there yet. */
export function loadVectors(rootDir: string, catalog: Catalog, workload: string): Vector[] {
  const rel = catalog.workloads[workload]?.vectors ?? `functions/testdata/${workload}.json`;
  try {
    const parsed = JSON.parse(readFileSync(join(rootDir, rel), 'utf8')) as unknown;
    const list = Array.isArray(parsed) ? parsed : (parsed as { vectors?: unknown }).vectors;
    return Array.isArray(list) ? (list as Vector[]) : [];
  } catch {
    return [];
  }
}

/** The spec `up` registers for a catalog function on the process backend. */
export function specFor(fn: CatalogFunction): FunctionSpecInput {
  return { name: fn.name, image: fn.image, runtime: fn.runtime, handler: fn.handler, ...fn.spec };
}

/** The seed's smoke payloads, used when a workload has no vector file. */
export const SEED_SMOKE: Record<string, { input: unknown; check: (output: unknown) => boolean }> = {
  'word-stats': {
    input: { text: 'hello world test' },
    check: (o) => typeof (o as { wordCount?: unknown })?.wordCount === 'number' && (o as { wordCount: number }).wordCount > 0,
  },
  'json-transform': {
    input: { data: [{ dept: 'eng', salary: 80000 }, { dept: 'sales', salary: 70000 }], groupBy: 'dept', operation: 'count' },
    check: (o) => (o as { groups?: unknown })?.groups !== undefined,
  },
};

/** Structural equality of parsed JSON (key order ignored, as DESIGN.md §6 compares). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
