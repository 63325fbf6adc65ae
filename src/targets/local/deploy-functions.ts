import type { FunctionSpec, FunctionSpecInput, FunctionView } from '@nanofaas/control-plane/contracts';
import { ApiError, type ApiClient } from '../../api-client/client.js';
import { StepFailure, type StepIO } from '../../pipeline/step.js';
import {
  catalogFunctionsToRemove,
  jsonEqual,
  loadVectors,
  SMOKE_PAYLOADS,
  specFor,
  type Catalog,
  type CatalogFunction,
} from '../../util/catalog.js';
import type { FunctionOutcome } from '../target.js';

/**
 * Register catalog functions the idempotent way: absent → POST; present with the same spec → keep;
 * present but different → DELETE + POST (the API has no PUT for specs). Shared by every target.
 */
export async function registerFunction(
  api: ApiClient,
  desired: FunctionSpecInput,
  options: { replace?: boolean } = {},
): Promise<'registered' | 'updated' | 'kept'> {
  let existing: FunctionView | undefined;
  try {
    existing = await api.getFunction(desired.name);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  // A FAILED workload or a rebuilt artifact needs fresh processes even when the spec is equal.
  if (existing && specMatches(desired, existing) && !options.replace && existing.status?.state !== 'FAILED') return 'kept';
  if (existing) await api.deleteFunction(desired.name);
  try {
    await api.registerFunction(desired);
  } catch (error) {
    // Someone registered it between our GET and POST; a second `up` will reconcile it.
    if (error instanceof ApiError && error.status === 409) return 'kept';
    throw error;
  }
  return existing ? 'updated' : 'registered';
}

/** Every field we ask for has the value the server resolved (server defaults don't count). */
export function specMatches(desired: FunctionSpecInput, actual: FunctionSpec): boolean {
  return Object.entries(desired).every(([key, value]) => jsonEqual(value, (actual as Record<string, unknown>)[key]));
}

/**
 * Delete the catalog functions registered on the platform that this `up` does not deploy (not
 * selected, or not runnable here), so `up --runtimes node` after a full run leaves the node ones.
 * Functions registered under names outside the catalog belong to the user and stay.
 */
export async function removeUndeployedCatalogFunctions(
  api: ApiClient,
  catalog: Catalog,
  deployed: readonly CatalogFunction[],
  io: Pick<StepIO, 'log'>,
): Promise<string[]> {
  const registered = (await api.listFunctions()).map((f) => f.name);
  const remove = catalogFunctionsToRemove(
    catalog,
    registered,
    deployed.map((f) => f.name),
  );
  for (const name of remove) {
    try {
      await api.deleteFunction(name);
    } catch (error) {
      // Deleted by someone else in between: converged all the same.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    io.log(`${name}: removed (not deployed by this run)`);
  }
  return remove;
}

/** Wait for ≥ 1 ready replica (GET /v1/functions/{name}); start-up only, polled with back-off. */
export async function waitReady(api: ApiClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const view = await api.getFunction(name);
    const status = view.status;
    if (!status || status.state === 'READY' || status.readyReplicas > 0) return;
    if (status.state === 'FAILED') throw new Error(`${name} failed to start: ${status.message ?? 'no message'}`);
    if (Date.now() + delay > deadline)
      throw new Error(
        `${name} not ready after ${Math.round(timeoutMs / 1000)} s (${status.state}${status.message ? `: ${status.message}` : ''})`,
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

/**
 * One real invocation checked against the workload's first success vector (or the fixed smoke
 * payload and check when the vector file is absent).
 */
export async function smokeTest(
  api: ApiClient,
  rootDir: string,
  catalog: Catalog,
  fn: CatalogFunction,
): Promise<NonNullable<FunctionOutcome['smoke']>> {
  const vector = loadVectors(rootDir, catalog, fn.workload).find((v) => v.output !== undefined && v.error === undefined);
  const fallback = SMOKE_PAYLOADS[fn.workload];
  const input = vector ? vector.input : fallback?.input;
  const t0 = performance.now();
  try {
    const result = await api.invoke(fn.name, input);
    const ms = performance.now() - t0;
    if (vector) {
      if (jsonEqual(result.output, vector.output)) return { ok: true, ms, vector: vector.name };
      return {
        ok: false,
        ms,
        vector: vector.name,
        message: `output differs from vector "${vector.name}": got ${JSON.stringify(result.output).slice(0, 200)}`,
      };
    }
    if (!fallback || fallback.check(result.output)) return { ok: true, ms, vector: 'smoke payload' };
    return { ok: false, ms, message: `unexpected output ${JSON.stringify(result.output).slice(0, 200)}` };
  } catch (error) {
    return {
      ok: false,
      ms: performance.now() - t0,
      ...(vector ? { vector: vector.name } : {}),
      message: error instanceof ApiError ? `${error.code}: ${error.message}` : String((error as Error).message),
    };
  }
}

/** Register, wait for readiness and smoke-test functions concurrently; one failure fails the step. */
export async function deployFunctions(
  api: ApiClient,
  rootDir: string,
  catalog: Catalog,
  fns: readonly CatalogFunction[],
  outcomes: FunctionOutcome[],
  io: StepIO,
  readyTimeoutMs = 90_000,
  replace: ReadonlySet<string> = new Set(),
  suggest: (command: string) => string = (command) => `nanofaas ${command}`,
  /** What is registered for a function (a target whose images carry their handler leaves it out). */
  specOf: (fn: CatalogFunction) => FunctionSpecInput = specFor,
): Promise<void> {
  io.target(`${api.baseUrl}/v1/functions`);
  const failures: string[] = [];
  await Promise.all(
    fns.map(async (fn) => {
      const outcome = outcomes.find((o) => o.name === fn.name) ?? { name: fn.name, runtime: fn.runtime };
      if (!outcomes.includes(outcome)) outcomes.push(outcome);
      try {
        outcome.registration = await registerFunction(api, specOf(fn), { replace: replace.has(fn.name) });
        await waitReady(api, fn.name, readyTimeoutMs);
        outcome.smoke = await smokeTest(api, rootDir, catalog, fn);
        io.log(
          `${fn.name}: ${outcome.registration}, smoke ${outcome.smoke.ok ? `ok (${Math.round(outcome.smoke.ms)} ms)` : `FAILED: ${outcome.smoke.message}`}`,
        );
        if (!outcome.smoke.ok) failures.push(`${fn.name}: ${outcome.smoke.message}`);
      } catch (error) {
        const message = error instanceof ApiError ? `${error.code}: ${error.message}` : (error as Error).message;
        io.log(`${fn.name}: ${message}`);
        failures.push(`${fn.name}: ${message}`);
      }
    }),
  );
  if (failures.length > 0) {
    throw new StepFailure(`${failures.length} of ${fns.length} functions failed: ${failures.join('; ')}`, {
      hint: `function logs are in <state>/logs/fn-<name>.log; \`${suggest('doctor')}\` checks the usual causes`,
    });
  }
}
