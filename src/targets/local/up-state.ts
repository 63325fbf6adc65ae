import { StepFailure } from '../../pipeline/step.js';
import type { Catalog, CatalogFunction } from '../../util/catalog.js';
import { selectFromCatalog } from '../select-functions.js';
import type { TargetEnv, UpContext, UpOptions } from '../target.js';

/**
 * What the steps of one local `up` learn and hand on: the functions it deploys (narrowed as
 * toolchains or artifacts turn out missing) and the control plane's management port.
 */
export class LocalUp {
  catalog!: Catalog;
  /** What --functions/--runtimes chose. */
  selected: CatalogFunction[] = [];
  /** The selected ones this machine can run; each skip takes one out. */
  runnable: CatalogFunction[] = [];
  /** Where Prometheus scrapes the control plane. */
  managementPort = 0;
  /** `--nats`: the nats-server the control plane is started against (NANOFAAS_NATS_URL). */
  natsUrl: string | undefined;

  constructor(
    readonly target: TargetEnv,
    readonly options: UpOptions,
  ) {}

  /** Reads the catalog and applies the selection; an unknown function name fails the step. */
  select(): void {
    const { catalog, functions } = selectFromCatalog(this.target.rootDir, this.options);
    this.catalog = catalog;
    this.selected = functions;
    const unknown = [...(this.options.functions ?? [])].filter((n) => !catalog.functions.some((f) => f.name === n));
    if (unknown.length > 0)
      throw new StepFailure(`unknown function(s) ${unknown.join(', ')}`, {
        hint: `choose from ${catalog.functions.map((f) => f.name).join(', ')}`,
      });
    this.runnable = [...functions];
  }

  /** `fn` is not deployed by this run, for `reason` (shown in the banner and --json). */
  skip(ctx: UpContext, fn: CatalogFunction, reason: string): void {
    this.runnable = this.runnable.filter((f) => f !== fn);
    const existing = ctx.functions.find((o) => o.name === fn.name);
    if (existing) existing.skipped = reason;
    else ctx.functions.push({ name: fn.name, runtime: fn.runtime, skipped: reason });
  }
}
