import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What loadtest needs from functions/catalog.json: which workload and runtime a function is. */
export interface CatalogEntry {
  name: string;
  workload: string;
  runtime: string;
}

export function readCatalog(rootDir: string): CatalogEntry[] {
  const raw = JSON.parse(readFileSync(join(rootDir, 'functions', 'catalog.json'), 'utf8')) as {
    functions: CatalogEntry[];
  };
  return raw.functions.map(({ name, workload, runtime }) => ({ name, workload, runtime }));
}

/**
 * Workload and runtime of a registered function: the catalog when it lists it, else the
 * `<workload>-<runtime>` naming convention, else the spec's own `runtime` field.
 */
export function classify(
  name: string,
  catalog: readonly CatalogEntry[],
  workloads: readonly string[],
  specRuntime?: string,
): CatalogEntry | undefined {
  const listed = catalog.find((entry) => entry.name === name);
  if (listed) return listed;
  const workload = workloads.find((w) => name.startsWith(`${w}-`));
  if (workload === undefined) return undefined;
  return { name, workload, runtime: specRuntime ?? name.slice(workload.length + 1) };
}
