/**
 * `up` converges on the REAL local platform (built dist/, real control plane and node runtimes):
 * after an earlier run left a python catalog function registered, `up --runtimes node` leaves
 * exactly the node catalog functions plus a function the user registered under their own name,
 * and the banner and --json say what was removed. The banner's next-step hint keeps the global
 * flags the user gave (--target, --state-dir).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api-client/client.js';
import { loadCatalog, specFor } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { createE2EEnv, nanofaas, nanofaasJson, type E2EEnv } from '../e2e/helpers.js';

const catalog = loadCatalog(ROOT_DIR);
const nodeFns = catalog.functions.filter((f) => f.runtime === 'node');
const pythonFn = catalog.functions.find((f) => f.runtime === 'python')!;
const USER_FN = 'my-word-counter';

describe('up converges to what it was asked for (local target, real processes)', () => {
  let e: E2EEnv;
  let first: { code: number; stdout: string; stderr: string };
  let api: ApiClient;
  const upArgs = ['up', '--skip-build', '--runtimes', 'node', '--no-prometheus'];

  beforeAll(async () => {
    e = createE2EEnv('nanofaas-converge-');
    // The global flags as a user types them: the banner's hint must repeat them.
    first = await nanofaas(['--target', 'local', '--state-dir', e.stateDir, ...upArgs], { env: e.env, timeoutMs: 180_000 });
    if (first.code !== 0) throw new Error(`first up failed (exit ${first.code}):\n${first.stdout}\n${first.stderr}`);
    const { doc } = await nanofaasJson<{ endpoints: { apiUrl: string } }>(['status'], { env: e.env });
    api = new ApiClient({ baseUrl: doc.endpoints.apiUrl });
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await e?.cleanup();
  }, 90_000);

  const registeredNames = async () => (await api.listFunctions()).map((f) => f.name).sort();

  it("the banner's next step keeps --target and --state-dir", () => {
    const hint = first.stdout.split('\n').find((l) => /nanofaas loadtest/.test(l));
    expect(hint?.trim()).toMatch(
      new RegExp(`^(npx )?nanofaas loadtest --target local --state-dir ${e.stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('a catalog function left by an earlier run is removed; the user function is kept; the banner names what was removed', async () => {
    // What a full run left behind, plus the user's own function (a catalog handler under another name).
    await api.registerFunction(specFor(pythonFn));
    await api.registerFunction({ ...specFor(nodeFns[0]!), name: USER_FN });
    expect(await registeredNames()).toEqual([...nodeFns.map((f) => f.name), pythonFn.name, USER_FN].sort());

    const again = await nanofaas(['--state-dir', e.stateDir, ...upArgs], { env: e.env, timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Removed (catalog functions this run did not deploy): ${pythonFn.name}`);
    expect(again.stdout).toContain(`${nodeFns.length} functions`);
    expect(await registeredNames()).toEqual([...nodeFns.map((f) => f.name), USER_FN].sort());
  });

  it('--json lists the removed functions; with nothing to remove the list is empty', async () => {
    await api.registerFunction(specFor(pythonFn));
    const { code, doc } = await nanofaasJson<{ ok: boolean; removed: string[] }>(upArgs, { env: e.env, timeoutMs: 180_000 });
    expect(code).toBe(0);
    expect(doc.removed).toEqual([pythonFn.name]);
    expect(await registeredNames()).toEqual([...nodeFns.map((f) => f.name), USER_FN].sort());

    const steady = await nanofaasJson<{ removed: string[] }>(upArgs, { env: e.env, timeoutMs: 180_000 });
    expect(steady.doc.removed).toEqual([]);
  });
});
