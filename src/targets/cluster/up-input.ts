import type { Catalog, CatalogFunction } from '../../util/catalog.js';
import type { Runner } from '../host/run-local.js';
import { selectFromCatalog } from '../select-functions.js';
import type { TargetEnv, UpOptions } from '../target.js';

/** What every cluster target's `up` starts from; each target's own input adds its configuration. */
export interface ClusterUpInput {
  rootDir: string;
  /** <state>/<target>: the values file and whatever else the target keeps between runs. */
  workDir: string;
  functions: readonly CatalogFunction[];
  /** The whole catalog: `up` removes its functions that are registered but not selected. */
  catalog: Catalog;
  skipBuild: boolean;
  /** Local commands, in the CLI's environment. */
  run: Runner;
  /** TargetEnv.suggest: hints keep the user's --target/--state-dir. */
  suggest: (command: string) => string;
}

/** The common part of a cluster target's `up` input: the project, the selection, where to keep files. */
export function clusterUpInput(
  env: TargetEnv,
  options: UpOptions,
  own: Pick<ClusterUpInput, 'workDir' | 'skipBuild' | 'run'>,
): ClusterUpInput {
  const { catalog, functions } = selectFromCatalog(env.rootDir, options);
  return { rootDir: env.rootDir, functions, catalog, suggest: env.suggest, ...own };
}
