/**
 * The workload-owner lease policy and the gate, without NATS: a fake lease store with the KV
 * semantics the lease relies on (create fails while the key lives, update needs the current
 * revision, the key expires ttl after its last write) and an injected clock.
 */
import { describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { gateWorkloads, type LeaseStore, switchableRole, WorkloadOwnerLease } from '../../control-plane/src/nats/workload-owner.js';
import type { WorkloadBackend } from '../../control-plane/src/workloads/backend.js';

const TTL = 9_000;

/** One KV key with max_age = TTL, on the test's clock. `broken` makes every call reject (NATS gone). */
function fakeKv(clock: { now: number }) {
  let key: { holder: string; revision: number; writtenAt: number } | undefined;
  let revision = 0;
  const alive = () => key !== undefined && clock.now < key.writtenAt + TTL;
  const kv = {
    broken: false,
    holder: () => (alive() ? key?.holder : undefined),
    store(): LeaseStore {
      return {
        ttlMs: TTL,
        async create(holder) {
          if (kv.broken) throw new Error('no connection');
          if (alive()) throw new Error('wrong last sequence');
          key = { holder, revision: ++revision, writtenAt: clock.now };
          return key.revision;
        },
        async update(holder, rev) {
          if (kv.broken) throw new Error('no connection');
          if (!alive() || key?.revision !== rev) throw new Error('wrong last sequence');
          key = { holder, revision: ++revision, writtenAt: clock.now };
          return key.revision;
        },
        async release(rev) {
          if (alive() && key?.revision === rev) key = undefined;
        },
      };
    },
  };
  return kv;
}

function leases(n: number) {
  const clock = { now: 0 };
  const kv = fakeKv(clock);
  const all = Array.from({ length: n }, (_, i) => new WorkloadOwnerLease({ store: kv.store(), holder: `r${i}`, now: () => clock.now }));
  const owners = () => {
    for (const l of all) l.check();
    return all.filter((l) => l.isOwner()).map((l) => l.holder);
  };
  return { clock, kv, all, owners };
}

describe('workload-owner lease (injected clock)', () => {
  it('the first to try takes it; the other stays out while it is renewed every TTL/3', async () => {
    const { clock, all, owners } = leases(2);
    const [a, b] = all as [WorkloadOwnerLease, WorkloadOwnerLease];
    await a.tick();
    await b.tick();
    expect(owners()).toEqual(['r0']);
    for (let i = 0; i < 10; i++) {
      clock.now += TTL / 3;
      await a.tick();
      await b.tick();
      expect(owners()).toEqual(['r0']);
    }
  });

  it('an owner that stops renewing loses it by its own clock at TTL; the other takes it only after the key expired', async () => {
    const { clock, all, owners } = leases(2);
    const [a, b] = all as [WorkloadOwnerLease, WorkloadOwnerLease];
    const heard: boolean[] = [];
    a.onChange((owner) => heard.push(owner));
    await a.tick(); // written at 0: held until TTL
    clock.now = TTL - 1;
    await b.tick();
    expect(owners()).toEqual(['r0']);
    clock.now = TTL;
    expect(owners()).toEqual([]); // A has heard nothing from NATS: its clock alone ends it
    expect(heard).toEqual([true, false]);
    await b.tick();
    expect(owners()).toEqual(['r1']);
    await a.tick(); // A's old revision is refused, and it cannot create: B holds the key
    expect(owners()).toEqual(['r1']);
  });

  it('a renewal that hangs past TTL ends ownership; its late refusal does not bring it back', async () => {
    const clock = { now: 0 };
    const kv = fakeKv(clock);
    const store = kv.store();
    let release!: () => void;
    const hung: LeaseStore = {
      ...store,
      update: (holder, rev) => new Promise((resolve, reject) => (release = () => store.update(holder, rev).then(resolve, reject))),
    };
    const a = new WorkloadOwnerLease({ store: hung, holder: 'a', now: () => clock.now });
    const b = new WorkloadOwnerLease({ store, holder: 'b', now: () => clock.now });
    await a.tick();
    clock.now = TTL / 3;
    const renewing = a.tick(); // hangs
    clock.now = TTL;
    a.check();
    expect(a.isOwner()).toBe(false);
    await b.tick();
    expect(b.isOwner()).toBe(true);
    release();
    await renewing;
    expect([a.isOwner(), b.isOwner()]).toEqual([false, true]);
  });

  it('NATS unreachable: a short outage keeps the lease; a longer one ends it at TTL, and it is taken again once the key expired', async () => {
    const { clock, kv, all, owners } = leases(1);
    const a = all[0] as WorkloadOwnerLease;
    await a.tick(); // held until TTL
    kv.broken = true;
    clock.now = TTL / 3;
    await a.tick();
    clock.now = (2 * TTL) / 3;
    await a.tick();
    expect(owners()).toEqual(['r0']); // failed renewals, but the key written at 0 still lives
    kv.broken = false;
    clock.now = TTL - 1;
    await a.tick(); // renewed with the revision it kept: held until 2 TTL - 1
    expect(owners()).toEqual(['r0']);
    kv.broken = true;
    clock.now = 2 * TTL - 1;
    expect(owners()).toEqual([]); // the clock alone ends it
    await a.tick();
    kv.broken = false;
    clock.now = 2 * TTL;
    await a.tick(); // the key expired; the stale revision was dropped, so this is a create
    expect(owners()).toEqual(['r0']);
  });

  it('stop() releases the key: the other takes it at its next attempt, before TTL', async () => {
    const { clock, all, owners } = leases(2);
    const [a, b] = all as [WorkloadOwnerLease, WorkloadOwnerLease];
    await a.tick();
    await b.tick();
    clock.now = 1;
    await a.stop();
    expect(owners()).toEqual([]);
    await b.tick();
    expect(owners()).toEqual(['r1']);
    await a.tick(); // stopped: never takes it again
    expect(owners()).toEqual(['r1']);
  });

  it('stop() during a take that is still on its way hands the key back once the take lands', async () => {
    const clock = { now: 0 };
    const kv = fakeKv(clock);
    const store = kv.store();
    let land!: () => void;
    const slow: LeaseStore = {
      ...store,
      create: (holder) => new Promise((resolve, reject) => (land = () => store.create(holder).then(resolve, reject))),
    };
    const a = new WorkloadOwnerLease({ store: slow, holder: 'a', now: () => clock.now });
    const b = new WorkloadOwnerLease({ store, holder: 'b', now: () => clock.now });
    const taking = a.tick();
    await a.stop();
    land();
    await taking;
    expect(a.isOwner()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve)); // the release it sent
    expect(kv.holder()).toBeUndefined();
    await b.tick();
    expect(b.isOwner()).toBe(true);
  });

  it('never two owners: 3 replicas, 2,000 random steps of ticks, crashes, outages and clock moves', async () => {
    const { clock, kv, all, owners } = leases(3);
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const silent = new Set<number>(); // replicas that stopped renewing (crashed or partitioned)
    let ownedSteps = 0;
    for (let step = 0; step < 2_000; step++) {
      const r = rand();
      if (r < 0.05) silent.add(Math.floor(rand() * 3));
      else if (r < 0.1) silent.clear();
      else if (r < 0.13) kv.broken = !kv.broken;
      clock.now += Math.floor(rand() * (TTL / 2));
      for (const [i, l] of all.entries()) if (!silent.has(i)) await l.tick();
      const now = owners();
      expect(now.length).toBeLessThanOrEqual(1);
      // The one who thinks it owns the lease is the holder of the live key.
      if (now.length === 1) {
        ownedSteps++;
        expect(kv.holder()).toBe(now[0]);
      }
    }
    expect(ownedSteps).toBeGreaterThan(500); // the schedule did exercise ownership, not only outages
  });
});

function recordingBackend(name: WorkloadBackend['name']) {
  const calls: string[] = [];
  const backend: WorkloadBackend = {
    name,
    provision: async (spec) => void calls.push(`provision ${spec.name} ${spec.replicas}`),
    deprovision: async (n) => void calls.push(`deprovision ${n}`),
    scale: async (n, r) => void calls.push(`scale ${n} ${r}`),
    endpoints: () => [{ url: 'http://fn-x.ns.svc.cluster.local:8080', ready: true }],
    status: () => ({ state: 'READY', replicas: 1, readyReplicas: 1 }),
    waitReady: async () => undefined,
    onChange: () => () => undefined,
    healthy: async () => true,
    close: async () => undefined,
    observeLoad: (n, load) => void calls.push(`load ${n} ${load.queueDepth}`),
  };
  return { backend, calls };
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const spec = (name: string, replicas = 1) => ({ name, image: 'img', replicas }) as FunctionSpec;

describe('workload gate', () => {
  it('a non-owner writes nothing but reads everything; on becoming owner it provisions what the registry wants', async () => {
    const { backend, calls } = recordingBackend('kubernetes');
    const role = switchableRole();
    const gated = gateWorkloads(backend, role, logger);
    await gated.provision(spec('f'));
    await gated.provision(spec('g'));
    await gated.scale('f', 3);
    await gated.deprovision('g');
    gated.observeLoad?.('f', { queueDepth: 5, inFlight: 1 });
    expect(calls).toEqual([]);
    expect(gated.endpoints('f')).toEqual([{ url: 'http://fn-x.ns.svc.cluster.local:8080', ready: true }]);

    let owner = true;
    const lease = { isOwner: () => owner, onChange: (_l: (o: boolean) => void) => () => undefined };
    role.follow(lease);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['provision f 3']); // f with its scaled count; g was deleted
    await gated.scale('f', 2);
    gated.observeLoad?.('f', { queueDepth: 7, inFlight: 0 });
    expect(calls.slice(1)).toEqual(['scale f 2', 'load f 7']);
    owner = false;
  });

  it('a non-owner refuses a spec the kubernetes backend would refuse (no image), as the owner would', async () => {
    const { backend, calls } = recordingBackend('kubernetes');
    const gated = gateWorkloads(backend, switchableRole(), logger);
    await expect(gated.provision({ ...spec('f'), image: undefined })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(calls).toEqual([]);
  });

  it('per-replica backends are not wrapped', () => {
    for (const name of ['process', 'docker', 'pool'] as const) {
      const { backend } = recordingBackend(name);
      expect(gateWorkloads(backend, switchableRole(), logger)).toBe(backend);
    }
  });
});
