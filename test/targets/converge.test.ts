/**
 * `up` converges on the cluster targets: the chart's registration hook only adds functions, so the
 * smoke step removes the catalog functions an earlier, wider `up` left registered. Functions under
 * names outside the catalog are the user's and stay. FAKE kubectl/helm/docker/multipass; the API is
 * the fake one of the harness (NANOFAAS_URL), which really deletes what it is asked to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatStepError } from '../../src/pipeline/step.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { registriesYaml } from '../../src/targets/multipass/vm-scripts.js';
import { createTarget as createKubeconfig } from '../../src/targets/kubeconfig/index.js';
import { World, catalogNames, fakeApi, load, up } from './harness.js';

const worlds: World[] = [];
const servers: Awaited<ReturnType<typeof fakeApi>>[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) w.cleanup();
  await Promise.all(servers.splice(0).map((api) => new Promise<void>((r) => api.server.close(() => r()))));
});

const catalog = loadCatalog(new URL('../../', import.meta.url).pathname);
const nodeNames = catalog.functions.filter((f) => f.runtime === 'node').map((f) => f.name);
const otherNames = catalog.functions.filter((f) => f.runtime !== 'node').map((f) => f.name);

/** What a full `up` plus a user's own registration left on the platform. */
async function platformAfterAFullRun() {
  const api = await fakeApi([...catalogNames(), 'my-own-function']);
  servers.push(api);
  return api;
}

describe('up --runtimes node after a full run (cluster targets)', () => {
  it('kubeconfig: removes the other catalog functions, keeps the node ones and the user function, and says so', async () => {
    const api = await platformAfterAFullRun();
    const w = new World().shadow('kubectl', 'helm', 'docker').scenario({});
    worlds.push(w);
    const target = load('kubeconfig', w, w.env({ SKIP_BUILD: 'true', NANOFAAS_URL: api.url, PROM_URL: api.url }));
    const { result, ctx } = await up(target, { skipBuild: true, runtimes: ['node'] });
    expect(result.error ? formatStepError(result.error).join('\n') : '').toBe('');
    const registeredNow = (await (await fetch(`${api.url}/v1/functions`)).json()) as { name: string }[];
    expect(registeredNow.map((f) => f.name).sort()).toEqual([...nodeNames, 'my-own-function'].sort());
    expect([...(ctx.removed ?? [])].sort()).toEqual([...otherNames].sort());
    expect(api.invoked.sort()).toEqual([...nodeNames].sort());
  });

  it('multipass: the same convergence through the VM pipeline', async () => {
    const api = await platformAfterAFullRun();
    const w = new World().scenario({
      state: 'Running',
      missingDeps: '',
      k3sInstalled: true,
      registryHealthy: true,
      registriesYaml: registriesYaml('localhost:5000'),
    });
    worlds.push(w);
    const target = load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url, NANOFAAS_API_TOKEN: 'unused' }));
    const { result, ctx } = await up(target, { skipBuild: true, runtimes: ['node'] });
    expect(result.error ? formatStepError(result.error).join('\n') : '').toBe('');
    expect(api.deleted.sort()).toEqual([...otherNames].sort());
    expect(ctx.removed?.sort()).toEqual([...otherNames].sort());
    const registeredNow = (await (await fetch(`${api.url}/v1/functions`)).json()) as { name: string }[];
    expect(registeredNow.map((f) => f.name)).toContain('my-own-function');
  });

  it('the dry-run plan says what converging does', async () => {
    const w = new World().shadow('kubectl', 'helm', 'docker').scenario({});
    worlds.push(w);
    const { written } = await up(load('kubeconfig', w, w.env({ SKIP_BUILD: 'true' })), {
      dryRun: true,
      skipBuild: true,
      runtimes: ['node'],
    });
    expect(written.join('\n')).toContain(
      'DELETE <api>/v1/functions/<name>  for each catalog function registered there but not selected by this run (functions under other names are kept)',
    );
  });

  it("a failing smoke test's hint names doctor with the user's flags (TargetEnv.suggest)", async () => {
    const api = await fakeApi(catalogNames(), { failInvoke: 'word-stats-node' });
    servers.push(api);
    const w = new World().shadow('kubectl', 'helm', 'docker').scenario({});
    worlds.push(w);
    const env = w.env({ SKIP_BUILD: 'true', NANOFAAS_URL: api.url, PROM_URL: api.url });
    const target = createKubeconfig({
      rootDir: w.repo,
      state: w.state,
      env,
      suggest: (command) => `nanofaas ${command} --target kubeconfig --state-dir /my/state`,
    });
    const { result } = await up(target, { skipBuild: true, runtimes: ['node'] });
    expect(result.ok).toBe(false);
    expect(formatStepError(result.error!).join('\n')).toContain(
      'hint: run `nanofaas doctor --target kubeconfig --state-dir /my/state`; exec functions need runtimeMode STDIO',
    );
  });
});
