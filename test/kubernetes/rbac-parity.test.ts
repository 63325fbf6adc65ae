// The chart's Role must grant what the backend really calls, and nothing more: run every backend
// operation against the FAKE API server, turn the recorded requests into RBAC verbs, and compare
// them with the Role `helm template` renders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesBackend } from '../../control-plane/src/workloads/kubernetes/index.js';
import { find, removeScratch, render } from '../helm/helm.js';
import { startFakeApiServer, type FakeApiServer, type RecordedRequest } from './fake-apiserver.js';
import { backendOptions, eventually, NAMESPACE, spec, TOKEN } from './helpers.js';

let api: FakeApiServer;
beforeAll(async () => {
  api = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
});
afterAll(async () => {
  await api.close();
  removeScratch();
});

function verbOf(r: RecordedRequest): string {
  const item = !/(deployments|services)$/.test(r.path);
  switch (r.method) {
    case 'GET':
      return item ? 'get' : r.query.watch === 'true' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      throw new Error(`unexpected ${r.method}`);
  }
}

describe('RBAC parity', () => {
  it('the control-plane Role equals the verbs the backend uses per resource', async () => {
    const b = createKubernetesBackend(backendOptions(api.url));
    try {
      await b.provision(spec({ name: 'rbac' }));
      await b.provision(spec({ name: 'rbac', timeoutMs: 1000 })); // 409 → get + update
      await eventually(() => expect(api.watchRequests()).toBeGreaterThan(0));
      await b.scale('rbac', 2);
      expect(await b.healthy()).toBe(true);
      await b.deprovision('rbac');
    } finally {
      await b.close();
    }

    const used: Record<string, Set<string>> = { deployments: new Set(), services: new Set() };
    for (const r of api.requests) {
      const resource = /\/(deployments|services)(\/|$)/.exec(r.path)?.[1];
      if (resource) used[resource]!.add(verbOf(r));
    }

    const role = find(await render(), 'Role', 'nanofaas-control-plane');
    const granted = Object.fromEntries(role.rules.map((rule: any) => [rule.resources[0], new Set(rule.verbs)]));
    expect([...granted.deployments].sort()).toEqual([...used.deployments!].sort());
    expect([...granted.services].sort()).toEqual([...used.services!].sort());
  });
});
