/**
 * Exactly one replica acts on a shared workload backend (docs/design.md §3.12, "Workloads"): two
 * control-plane replicas in this process, in NATS mode against a real nats-server, with the
 * kubernetes backend pointed at the FAKE API server of test/kubernetes (a fake: it exercises the
 * real @kubernetes/client-node, and records every request, so writes can be counted).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../control-plane/src/nats/client.js';
import { openKvLeaseStore, WorkloadOwnerLease } from '../../control-plane/src/nats/workload-owner.js';
import { call, removeDir, until } from '../control-plane/helpers.js';
import { type FakeApiServer, startFakeApiServer } from '../kubernetes/fake-apiserver.js';
import { kubeConfigFor, NAMESPACE, TOKEN } from '../kubernetes/helpers.js';
import { type RunningNats, startNats } from './nats-server.js';
import { natsReplicas } from './replicas.js';

const LEASE_TTL_MS = 1_500;

let nats: RunningNats;
let api: FakeApiServer;
const dirs: string[] = [];
const replicas = natsReplicas();
const savedKubeconfig = process.env.KUBECONFIG;

beforeAll(async () => {
  [nats, api] = await Promise.all([startNats(), startFakeApiServer({ namespace: NAMESPACE, token: TOKEN })]);
  const dir = mkdtempSync(join(tmpdir(), 'nanofaas-kubeconfig-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config'), kubeConfigFor(api.url).exportConfig());
  // Read by the kubernetes backend when each replica builds it (loadKubeConfig).
  process.env.KUBECONFIG = join(dir, 'config');
});
afterAll(async () => {
  await replicas.closeAll();
  await api?.close();
  await nats?.close();
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  for (const d of dirs) removeDir(d);
});

const replica = () =>
  replicas.start(
    nats.url,
    { NANOFAAS_WORKLOAD_BACKEND: 'kubernetes', NANOFAAS_NAMESPACE: NAMESPACE },
    { workloadLeaseTtlMs: LEASE_TTL_MS },
  );

/** Every write the fake API server received for one object (POST, PUT, PATCH, DELETE). */
function writes(kind: 'deployments' | 'services', object: string, method?: string): number {
  return api.requests.filter((r) => {
    if (r.method === 'GET' || (method !== undefined && r.method !== method)) return false;
    const path = r.path.replace(/\/+$/, '');
    const created =
      r.method === 'POST' && path.endsWith(`/${kind}`) && (r.body as { metadata?: { name?: string } })?.metadata?.name === object;
    return created || path.endsWith(`/${kind}/${object}`);
  }).length;
}

async function readyz(managementUrl: string): Promise<{ status: string; workloadOwner?: boolean }> {
  return (await fetch(`${managementUrl}/readyz`)).json() as Promise<{ status: string; workloadOwner?: boolean }>;
}

async function ownerGauge(managementUrl: string): Promise<number | undefined> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nanofaas_workload_owner '));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

const base = { image: 'localhost:5000/nanofaas/demo:0.1.0', concurrency: 2, queueSize: 50 };

describe('NATS mode: exactly one replica acts on the kubernetes backend (FAKE API server)', () => {
  it('one owner; the non-owner’s registration and scale are applied once by the owner; the owner leaves → the other takes over', async () => {
    const a = await replica();
    const b = await replica();

    // Exactly one owner: A took the free lease when it started, B found it held.
    expect([a.cp.workloadOwner?.isOwner(), b.cp.workloadOwner?.isOwner()]).toEqual([true, false]);
    expect(await readyz(a.urls.managementUrl)).toMatchObject({ workloadOwner: true });
    expect(await readyz(b.urls.managementUrl)).toMatchObject({ workloadOwner: false });
    expect([await ownerGauge(a.urls.managementUrl), await ownerGauge(b.urls.managementUrl)]).toEqual([1, 0]);

    // Registered through the non-owner: created once, by the owner (through the registry watch).
    const reg = await call(b.urls.apiUrl, 'POST', '/v1/functions', { ...base, name: 'wo-first' });
    expect(reg.status).toBe(201);
    await until(() => api.get('Deployment', 'fn-wo-first'), 5_000, 'fn-wo-first created');
    // B serves sync calls through the Service the owner made: it learns the Deployment from its
    // watch, writes nothing, and sees it become ready.
    await until(() => b.cp.backend.endpoints('wo-first').length === 1, 5_000, 'B sees fn-wo-first');
    api.setReadyReplicas('fn-wo-first', 1);
    await until(() => b.cp.backend.endpoints('wo-first')[0]?.ready, 5_000, 'B sees fn-wo-first ready');
    expect(b.cp.backend.endpoints('wo-first')).toEqual([{ url: `http://fn-wo-first.${NAMESPACE}.svc.cluster.local:8080`, ready: true }]);
    expect(b.cp.backend.status('wo-first')).toMatchObject({ state: 'READY', readyReplicas: 1 });
    expect(writes('deployments', 'fn-wo-first')).toBe(1);
    expect(writes('services', 'fn-wo-first')).toBe(1);
    expect(writes('deployments', 'fn-wo-first', 'POST')).toBe(1);

    // A spec the kubernetes backend refuses is refused by the non-owner too, before anything is stored.
    const refused = await call(b.urls.apiUrl, 'POST', '/v1/functions', {
      ...base,
      name: 'wo-no-image',
      image: undefined,
      endpointUrl: undefined,
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('has no image');
    expect(a.cp.registry.get('wo-no-image')).toBeUndefined();

    // Scaled through the non-owner: applied once, by the owner.
    const scaled = await call(b.urls.apiUrl, 'PUT', '/v1/functions/wo-first/replicas', { replicas: 3 });
    expect(scaled.status).toBe(200);
    await until(() => api.get('Deployment', 'fn-wo-first')?.spec.replicas === 3, 5_000, 'fn-wo-first scaled to 3');
    await until(() => a.cp.registry.get('wo-first')?.replicas === 3, 5_000, 'A knows replicas 3');
    expect(writes('deployments', 'fn-wo-first', 'PATCH')).toBe(1);
    expect(writes('deployments', 'fn-wo-first')).toBe(2);

    // Only the owner's internal scaler acts, and its load reports carry the shared async backlog:
    // work enqueued through B (no pod is ready, so it waits) makes A scale the function up.
    const auto = await call(b.urls.apiUrl, 'POST', '/v1/functions', {
      ...base,
      name: 'wo-auto',
      scalingConfig: { strategy: 'INTERNAL', minReplicas: 1, maxReplicas: 5 },
    });
    expect(auto.status).toBe(201);
    await until(() => a.cp.registry.get('wo-auto'), 5_000, 'A knows wo-auto');
    for (let i = 0; i < 8; i++) expect((await call(b.urls.apiUrl, 'POST', '/v1/functions/wo-auto:enqueue', { input: i })).status).toBe(202);
    // The scaler evaluates every 5 s; load reports come every second.
    await until(() => (api.get('Deployment', 'fn-wo-auto')?.spec.replicas ?? 0) > 1, 15_000, 'the owner scaled fn-wo-auto up');
    expect(writes('deployments', 'fn-wo-auto', 'POST')).toBe(1);
    expect(writes('deployments', 'fn-wo-auto', 'PATCH')).toBe(1);

    // Deleted through the non-owner: removed once, by the owner.
    expect((await call(b.urls.apiUrl, 'DELETE', '/v1/functions/wo-auto')).status).toBe(204);
    await until(
      () => api.get('Deployment', 'fn-wo-auto') === undefined && api.get('Service', 'fn-wo-auto') === undefined,
      5_000,
      'fn-wo-auto deleted',
    );
    expect([writes('deployments', 'fn-wo-auto', 'DELETE'), writes('services', 'fn-wo-auto', 'DELETE')]).toEqual([1, 1]);

    // The owner leaves: B becomes owner on the lease change (A released it; at worst it would
    // expire LEASE_TTL_MS after A's last renewal).
    const takenOver = new Promise<number>((resolve) => {
      const off = b.cp.workloadOwner?.onChange((owner) => {
        if (!owner) return;
        off?.();
        resolve(Date.now());
      });
    });
    const leftAt = Date.now();
    await a.cp.close();
    const tookOverAt = await takenOver;
    expect(tookOverAt - leftAt).toBeLessThan(LEASE_TTL_MS + 1_000);
    expect(await readyz(b.urls.managementUrl)).toMatchObject({ workloadOwner: true });
    expect(await ownerGauge(b.urls.managementUrl)).toBe(1);

    // Its reconcile replaced what exists (create → 409 → replace), keeping the scaled count.
    await until(() => writes('deployments', 'fn-wo-first', 'PUT') === 1, 5_000, 'B reconciled fn-wo-first');
    expect(writes('deployments', 'fn-wo-first', 'POST')).toBe(2); // A's create, B's refused one (409)
    expect(api.get('Deployment', 'fn-wo-first')?.spec.replicas).toBe(3);
    expect(api.get('Deployment', 'fn-wo-auto')).toBeUndefined(); // deleted ones are not brought back

    // A new registration is created exactly once, now by B.
    const second = await call(b.urls.apiUrl, 'POST', '/v1/functions', { ...base, name: 'wo-second' });
    expect(second.status).toBe(201);
    expect(api.get('Deployment', 'fn-wo-second')).toBeDefined();
    expect(writes('deployments', 'fn-wo-second')).toBe(1);
    expect(writes('services', 'fn-wo-second')).toBe(1);
    await b.cp.close(); // releases the lease for the next test
  }, 45_000);

  it('real KV: the lease is refused while held, renewed by revision, and taken by another only after an unrenewed key expired', async () => {
    await replicas.closePlanes(); // no replica of the first test holds the lease
    const client = await connectNats({ url: nats.url });
    try {
      const store = await openKvLeaseStore(client, LEASE_TTL_MS);
      expect(store.ttlMs).toBe(LEASE_TTL_MS); // the bucket's max_age (made by the first test's replicas)
      const a = new WorkloadOwnerLease({ store, holder: 'a' });
      const b = new WorkloadOwnerLease({ store, holder: 'b' });
      await a.tick();
      await b.tick();
      expect([a.isOwner(), b.isOwner()]).toEqual([true, false]);
      const lastRenewal = Date.now();
      await a.tick(); // update against its revision
      await b.tick();
      expect([a.isOwner(), b.isOwner()]).toEqual([true, false]);

      // A "dies": it renews no more and releases nothing. B keeps trying; the server's max_age
      // lets B in only once A's last write is TTL old, and by then A's own clock has ended it.
      const tookAt = await until(
        async () => {
          await b.tick();
          return b.isOwner() ? Date.now() : undefined;
        },
        LEASE_TTL_MS + 5_000,
        'B takes the expired lease',
      );
      expect(tookAt - lastRenewal).toBeGreaterThanOrEqual(LEASE_TTL_MS);
      a.check();
      expect(a.isOwner()).toBe(false);
      await a.tick(); // its old revision is gone, and the key is B's: refused
      expect([a.isOwner(), b.isOwner()]).toEqual([false, true]);
      await b.stop();
      await a.tick(); // released: free again
      expect(a.isOwner()).toBe(true);
      await a.stop();
    } finally {
      await client.close();
    }
  }, 20_000);
});
