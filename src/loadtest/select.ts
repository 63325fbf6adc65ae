import type { FunctionSpec } from '@nanofaas/control-plane/contracts';
import { classify, type CatalogEntry } from './catalog.js';

export interface Filters {
  functions?: string[] | undefined;
  runtimes?: string[] | undefined;
  workloads?: string[] | undefined;
}

export class SelectionError extends Error {
  override name = 'SelectionError';
}

/**
 * The functions to load-test: registered ones the profile has a payload for, narrowed by the
 * filters, in catalog order (then by name). Naming an unregistered function is an error.
 */
export function selectFunctions(
  registered: readonly FunctionSpec[],
  catalog: readonly CatalogEntry[],
  workloads: readonly string[],
  filters: Filters,
): CatalogEntry[] {
  const known = registered
    .map((spec) => classify(spec.name, catalog, workloads, spec.runtime))
    .filter((entry): entry is CatalogEntry => entry !== undefined);
  if (filters.functions) {
    const missing = filters.functions.filter((name) => !registered.some((spec) => spec.name === name));
    if (missing.length > 0)
      throw new SelectionError(`not registered: ${missing.join(', ')} (registered: ${registered.map((s) => s.name).join(', ') || 'none'})`);
    const unknown = filters.functions.filter((name) => !known.some((entry) => entry.name === name));
    if (unknown.length > 0)
      throw new SelectionError(`no load payload for ${unknown.join(', ')}: the profile knows the workloads ${workloads.join(', ')}`);
  }
  const order = (name: string) => {
    const i = catalog.findIndex((entry) => entry.name === name);
    return i < 0 ? catalog.length : i;
  };
  const chosen = known
    .filter((entry) => !filters.functions || filters.functions.includes(entry.name))
    .filter((entry) => !filters.runtimes || filters.runtimes.includes(entry.runtime))
    .filter((entry) => !filters.workloads || filters.workloads.includes(entry.workload))
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  if (chosen.length === 0) {
    throw new SelectionError(
      `no registered function matches the filters (registered: ${registered.map((s) => s.name).join(', ') || 'none'})`,
    );
  }
  return chosen;
}
