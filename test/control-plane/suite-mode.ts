/**
 * Which control plane a shared suite (api-contract.suite.ts, conformance/control-plane.suite.ts)
 * runs against: `memory`, the default, or `nats` (NANOFAAS_NATS_URL against a real nats-server,
 * docs/design.md §3.12). The suites branch an expectation on `name` only where §3.12 says the
 * modes differ by design, and say so where they do.
 */
import { afterAll, beforeAll } from 'vitest';
import { type RunningNats, startNats } from '../nats/nats-server.js';

export interface SuiteMode {
  name: 'memory' | 'nats';
  /** Extra environment for every control plane the suite starts; read inside its beforeAll. */
  env(): Record<string, string>;
}

export const MEMORY_MODE: SuiteMode = { name: 'memory', env: () => ({}) };

/**
 * NATS mode for one suite file: one nats-server for the file (its own store, so nothing leaks
 * from another file), started by a beforeAll registered before the suite's own, so it runs first,
 * and closed by an afterAll that runs after the suite's (vitest runs after-hooks in reverse
 * order), once its control planes have stopped. Call it at the top of the file, before the suite.
 */
export function natsSuiteMode(): SuiteMode {
  let nats: RunningNats | undefined;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.close();
  });
  return {
    name: 'nats',
    env: () => {
      if (!nats) throw new Error('natsSuiteMode: the nats-server has not started');
      return { NANOFAAS_NATS_URL: nats.url };
    },
  };
}
