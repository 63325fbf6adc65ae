import type { CatalogFunction } from '../util/catalog.js';

/**
 * What loadtest needs to know of a function: its workload and runtime. A catalog function is
 * one; a registered function outside the catalog gets one from classify, where the runtime is
 * whatever its spec or name says, so it is a plain string here.
 */
export type CatalogEntry = Pick<CatalogFunction, 'name' | 'workload'> & { runtime: string };

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
  if (listed) return { name: listed.name, workload: listed.workload, runtime: listed.runtime };
  const workload = workloads.find((w) => name.startsWith(`${w}-`));
  if (workload === undefined) return undefined;
  return { name, workload, runtime: specRuntime ?? name.slice(workload.length + 1) };
}
