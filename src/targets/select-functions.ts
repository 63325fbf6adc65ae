import { loadCatalog, type Catalog, type CatalogFunction } from '../util/catalog.js';
import type { UpOptions } from './target.js';

/** The catalog entries `up --functions/--runtimes` selected (all when neither is given). */
export function selectFunctions(all: readonly CatalogFunction[], options: Pick<UpOptions, 'functions' | 'runtimes'>): CatalogFunction[] {
  return all.filter(
    (fn) => (!options.functions || options.functions.includes(fn.name)) && (!options.runtimes || options.runtimes.includes(fn.runtime)),
  );
}

/** The project's catalog and the part of it `up` deploys. */
export function selectFromCatalog(
  rootDir: string,
  options: Pick<UpOptions, 'functions' | 'runtimes'>,
): { catalog: Catalog; functions: CatalogFunction[] } {
  const catalog = loadCatalog(rootDir);
  return { catalog, functions: selectFunctions(catalog.functions, options) };
}
