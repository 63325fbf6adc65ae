import type { CatalogFunction } from '../../util/catalog.js';
import type { UpOptions } from '../target.js';

/** The catalog entries `up --functions/--runtimes` selected (all when neither is given). */
export function selectFunctions(all: readonly CatalogFunction[], options: Pick<UpOptions, 'functions' | 'runtimes'>): CatalogFunction[] {
  return all.filter(
    (fn) => (!options.functions || options.functions.includes(fn.name)) && (!options.runtimes || options.runtimes.includes(fn.runtime)),
  );
}
