import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FunctionSpecInput, RuntimeName } from '@nanofaas/control-plane/contracts';

/*
 * functions/catalog.json, the one list of demo functions: read, typed and validated here only.
 * Every CLI module (up, doctor, the targets, loadtest) goes through loadCatalog.
 */

const CatalogFunctionSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  workload: Type.String({ minLength: 1 }),
  runtime: RuntimeName,
  image: Type.String({ minLength: 1 }),
  handler: Type.String({ minLength: 1 }),
  spec: Type.Partial(FunctionSpecInput),
});

const CatalogSchema = Type.Object({
  workloads: Type.Record(Type.String(), Type.Object({ vectors: Type.String(), check: Type.String() })),
  functions: Type.Array(CatalogFunctionSchema),
});

/** One entry of functions/catalog.json. */
export type CatalogFunction = Static<typeof CatalogFunctionSchema>;
export type Catalog = Static<typeof CatalogSchema>;

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/** A shared test vector from functions/testdata/<workload>.json. */
export interface Vector {
  name: string;
  input: unknown;
  output?: unknown;
  error?: string;
}

/** Reads and validates <rootDir>/functions/catalog.json; any problem is one CatalogError naming the file. */
export function loadCatalog(rootDir: string): Catalog {
  const path = join(rootDir, 'functions', 'catalog.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? `not valid JSON (${error.message})`
        : `cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    throw new CatalogError(`${path}: ${reason}`);
  }
  if (Value.Check(CatalogSchema, raw)) return raw;
  const first = Value.Errors(CatalogSchema, raw).First();
  throw new CatalogError(`${path}: invalid catalog${first?.path ? ` at ${first.path}` : ''}: ${first?.message ?? 'unknown error'}`);
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

/**
 * Registered functions `up` removes to converge: catalog names this run does not deploy. A name
 * outside the catalog is the user's own function and is never touched.
 */
export function catalogFunctionsToRemove(catalog: Catalog, registered: readonly string[], deployed: readonly string[]): string[] {
  const keep = new Set(deployed);
  const inCatalog = new Set(catalog.functions.map((f) => f.name));
  return registered.filter((name) => inCatalog.has(name) && !keep.has(name));
}

/** The spec `up` registers for a catalog function on the process backend. */
export function specFor(fn: CatalogFunction): FunctionSpecInput {
  return { name: fn.name, image: fn.image, runtime: fn.runtime, handler: fn.handler, ...fn.spec };
}

/**
 * The smoke payloads: one fixed input per workload and what a good output has (the
 * catalog's `check`). `up` on the local target falls back to them when a workload has no vector
 * file; the kubeconfig and multipass targets always use them.
 */
export const SMOKE_PAYLOADS: Record<string, { input: unknown; check: (output: unknown) => boolean }> = {
  'word-stats': {
    input: { text: 'hello world test' },
    check: (o) => typeof (o as { wordCount?: unknown })?.wordCount === 'number' && (o as { wordCount: number }).wordCount > 0,
  },
  'json-transform': {
    input: {
      data: [
        { dept: 'eng', salary: 80000 },
        { dept: 'sales', salary: 70000 },
      ],
      groupBy: 'dept',
      operation: 'count',
    },
    check: (o) => (o as { groups?: unknown })?.groups !== undefined,
  },
};

/** Structural equality of parsed JSON (key order ignored, as docs/design.md §5.7 compares). */
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
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
