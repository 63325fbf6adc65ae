/**
 * ExecutionStore keeps finished records in generations dropped whole; what can be found must stay
 * exactly what a plain FIFO with a cap and a TTL sweep gives. Checked against that model over
 * random steps (create, finish, clock moves, sweeps) with a small cap, so every generation boundary,
 * cap eviction and expiry is crossed many times.
 */
import { describe, expect, it } from 'vitest';
import { type Execution, ExecutionStore } from '../../control-plane/src/invocation/executions.js';

/** A tiny deterministic PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('ExecutionStore (generations) against a FIFO model', () => {
  for (const [maxRecords, seed] of [
    [7, 1],
    [16, 2],
    [100, 3],
  ] as const) {
    it(`cap ${maxRecords}: the same records are found after every step (seed ${seed})`, () => {
      const random = prng(seed);
      let now = 1_000;
      const ttlMs = 500;
      const store = new ExecutionStore({ ttlMs, maxRecords, now: () => now });
      const live: Execution[] = [];
      const everyId: string[] = [];
      let modelFinished: Execution[] = [];
      for (let step = 0; step < 5_000; step++) {
        const r = random();
        if (r < 0.45) {
          const e = store.create('f');
          live.push(e);
          everyId.push(e.id);
        } else if (r < 0.9 && live.length > 0) {
          const [e] = live.splice(Math.floor(random() * live.length), 1);
          expect(store.finish(e!, { status: 'success', httpStatus: 200, outputJson: '1' }, 1)).toBe(true);
          modelFinished.push(e!);
          if (modelFinished.length > maxRecords) modelFinished = modelFinished.slice(-maxRecords);
        } else if (r < 0.97) {
          now += Math.floor(random() * 120);
        } else {
          store.sweep();
          modelFinished = modelFinished.filter((e) => e.finishedAt > now - ttlMs);
        }
        const visible = new Set([...live, ...modelFinished].map((e) => e.id));
        expect(store.size).toBe(visible.size);
        expect(store.live).toBe(live.length);
        // Every id ever made: found exactly when the model has it.
        if (step % 50 === 0 || step > 4_900) {
          for (const id of everyId) expect(store.get(id)?.id === id, `${id} at step ${step}`).toBe(visible.has(id));
        }
      }
      store.close();
    });
  }

  it('a record that ran long is kept its TTL from when it finished, wherever its generation is', () => {
    let now = 0;
    const store = new ExecutionStore({ ttlMs: 1_000, maxRecords: 16, now: () => now });
    const long = store.create('f');
    for (let i = 0; i < 40; i++) store.finish(store.create('f'), { status: 'success', httpStatus: 200, outputJson: '1' }, 1);
    now += 5_000;
    store.sweep(); // every short one expired
    expect(store.size).toBe(1);
    store.finish(long, { status: 'success', httpStatus: 200, outputJson: '2' }, 1);
    now += 999;
    store.sweep();
    expect(store.get(long.id)?.outcome?.outputJson).toBe('2');
    now += 1;
    store.sweep();
    expect(store.get(long.id)).toBeUndefined();
    expect(store.size).toBe(0);
    store.close();
  });
});
