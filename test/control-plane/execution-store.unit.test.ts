/**
 * ExecutionStore keeps finished records as columns in a ring (finished-records.ts); what can be
 * found, and what it reads back, must stay exactly what a plain FIFO with a cap and a TTL sweep
 * gives. Checked against that model over random steps (create, finish, clock moves, sweeps) with a
 * small cap, so every slot reuse, index collision, cap eviction and expiry is crossed many times.
 */
import { describe, expect, it } from 'vitest';
import { type Execution, ExecutionStore, type Outcome } from '../../control-plane/src/invocation/executions.js';
import { prng } from '../util/prng.js';

/** What a finished record reads back as: every field but the live-only listeners. */
function snapshot(e: Execution): Omit<Execution, 'listeners'> {
  const { listeners: _, ...rest } = e;
  return { ...rest, outcome: { ...e.outcome! } };
}

const OUTCOMES: Outcome[] = [
  { status: 'success', httpStatus: 200, outputJson: '{"n":1}' },
  { status: 'error', httpStatus: 422, error: { error: 'INVALID_INPUT', message: 'no', details: { field: 'x' } } },
  { status: 'timeout', httpStatus: 504, error: { error: 'TIMEOUT', message: 'late' } },
  { status: 'error', httpStatus: 429, error: { error: 'QUEUE_FULL', message: 'full' }, headers: { 'retry-after': '1' } },
];

describe('ExecutionStore against a FIFO model', () => {
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
          e!.attempts = 1 + Math.floor(random() * 3);
          e!.startedAt = now;
          const outcome = OUTCOMES[Math.floor(random() * OUTCOMES.length)]!;
          expect(store.finish(e!, outcome, e!.attempts)).toBe(true);
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
          for (const e of modelFinished) expect(snapshot(store.get(e.id)!)).toEqual(snapshot(e));
        }
      }
      store.close();
    });
  }

  it('a record that ran long is kept its TTL from when it finished, wherever its slot is', () => {
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

  it('reads back every field of a finished record, and finds only ids written as they were made', () => {
    let now = 1_700_000_000_123;
    const store = new ExecutionStore({ ttlMs: 60_000, maxRecords: 100, now: () => now });
    const e = store.create('word-stats');
    now += 5;
    e.startedAt = now;
    e.attempts = 2;
    now += 7;
    store.finish(e, { status: 'success', httpStatus: 200, outputJson: '{"words":3}' }, 2);
    const found = store.get(e.id)!;
    expect(found).not.toBe(e); // a copy read from the columns
    expect(found).toEqual({
      id: e.id,
      functionName: 'word-stats',
      createdAt: 1_700_000_000_123,
      status: 'success',
      attempts: 2,
      startedAt: 1_700_000_000_128,
      finishedAt: 1_700_000_000_135,
      outcome: { status: 'success', httpStatus: 200, outputJson: '{"words":3}' },
      completedAttempt: 2,
      listeners: undefined,
      finishSeq: 1,
    });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const other of [e.id.toUpperCase(), `${e.id} `, e.id.slice(1), e.id.replace('-', '_'), `${e.id.slice(0, 35)}\u00e9`, '', 'x'])
      expect(store.get(other), other).toBeUndefined();
    store.close();
  });
});
