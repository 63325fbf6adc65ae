// The internal scaler's math: a pure function of state, load, bounds and an injected clock.
import { describe, expect, it } from 'vitest';
import {
  boundsFor,
  createScalerLoop,
  decide,
  wantedReplicas,
  type ScalerSettings,
  type ScalerState,
} from '../../control-plane/src/workloads/kubernetes/scaler.js';
import { spec } from './helpers.js';

const settings: ScalerSettings = { scaleUpCooldownMs: 10_000, scaleDownCooldownMs: 60_000 };
const bounds = { min: 1, max: 5, perReplica: { inFlight: 4, queueDepth: 4 } };

describe('boundsFor', () => {
  it('only INTERNAL functions are scaled; min/max default to 1/10; metric targets override concurrency', () => {
    expect(boundsFor(spec())).toBeUndefined();
    expect(boundsFor(spec({ scalingConfig: { strategy: 'HPA' } }))).toBeUndefined();
    expect(boundsFor(spec({ concurrency: 8, scalingConfig: { strategy: 'INTERNAL' } }))).toEqual({
      min: 1,
      max: 10,
      perReplica: { inFlight: 8, queueDepth: 8 },
    });
    expect(
      boundsFor(
        spec({
          scalingConfig: { strategy: 'INTERNAL', minReplicas: 3, maxReplicas: 2, metrics: [{ type: 'queue_depth', target: 20 }] },
        }),
      ),
    ).toEqual({ min: 3, max: 3, perReplica: { inFlight: 4, queueDepth: 20 } });
  });
});

describe('wantedReplicas', () => {
  it.each([
    [{ queueDepth: 0, inFlight: 0 }, 1], // idle → min
    [{ queueDepth: 0, inFlight: 4 }, 1], // one replica exactly busy
    [{ queueDepth: 0, inFlight: 5 }, 2],
    [{ queueDepth: 1, inFlight: 4 }, 2], // busy + a waiting item → one more
    [{ queueDepth: 9, inFlight: 8 }, 5], // 2 + 3
    [{ queueDepth: 100, inFlight: 20 }, 5], // capped at max
  ])('%j → %i', (load, expected) => {
    expect(wantedReplicas(load, bounds)).toBe(expected);
  });
});

describe('decide', () => {
  const at = (replicas: number, lastChangeAt = 0): ScalerState => ({ replicas, lastChangeAt });

  it('scales up at once when outside the up cool-down, and holds inside it', () => {
    expect(decide(at(1, 0), { queueDepth: 8, inFlight: 4 }, bounds, 20_000, settings).replicas).toBe(3);
    expect(decide(at(1, 15_000), { queueDepth: 8, inFlight: 4 }, bounds, 20_000, settings)).toEqual({ replicas: 1, lastChangeAt: 15_000 });
  });

  it('scales down only after the load stayed low for the whole cool-down, to the peak seen meanwhile', () => {
    let s = at(5, 0);
    s = decide(s, { queueDepth: 0, inFlight: 0 }, bounds, 100_000, settings); // lull starts
    expect(s).toMatchObject({ replicas: 5, belowSince: 100_000, belowPeak: 1 });
    s = decide(s, { queueDepth: 0, inFlight: 10 }, bounds, 130_000, settings); // a burst wanting 3
    expect(s).toMatchObject({ replicas: 5, belowSince: 100_000, belowPeak: 3 });
    s = decide(s, { queueDepth: 0, inFlight: 0 }, bounds, 159_999, settings);
    expect(s.replicas).toBe(5);
    s = decide(s, { queueDepth: 0, inFlight: 0 }, bounds, 160_000, settings);
    expect(s).toEqual({ replicas: 3, lastChangeAt: 160_000 });
  });

  it('load back at the current count resets the scale-down window', () => {
    let s = decide(at(3, 0), { queueDepth: 0, inFlight: 0 }, bounds, 100_000, settings);
    s = decide(s, { queueDepth: 0, inFlight: 12 }, bounds, 120_000, settings); // wants exactly 3
    expect(s.belowSince).toBeUndefined();
    s = decide(s, { queueDepth: 0, inFlight: 0 }, bounds, 170_000, settings);
    expect(s).toMatchObject({ replicas: 3, belowSince: 170_000 });
  });

  it('brings a count outside new bounds back inside immediately', () => {
    expect(decide(at(9, 1_000), { queueDepth: 0, inFlight: 0 }, bounds, 1_001, settings)).toEqual({ replicas: 5, lastChangeAt: 1_001 });
    expect(decide(at(0, 1_000), { queueDepth: 0, inFlight: 0 }, bounds, 1_001, settings)).toEqual({ replicas: 1, lastChangeAt: 1_001 });
  });
});

describe('createScalerLoop', () => {
  it('applies decisions through scale(), keeps state when scale() fails, and ignores non-INTERNAL functions', async () => {
    let now = 0;
    const calls: [string, number][] = [];
    let failNext = false;
    const specs = new Map([
      ['auto', spec({ name: 'auto', scalingConfig: { strategy: 'INTERNAL', minReplicas: 1, maxReplicas: 4 } })],
      ['fixed', spec({ name: 'fixed' })],
    ]);
    const errors: string[] = [];
    const loop = createScalerLoop({
      settings,
      intervalMs: 3_600_000,
      now: () => now,
      specOf: (n) => specs.get(n),
      currentReplicas: () => 1,
      async scale(name, replicas) {
        if (failNext) {
          failNext = false;
          throw new Error('api down');
        }
        calls.push([name, replicas]);
      },
      onError: (name) => errors.push(name),
    });
    try {
      loop.observe('fixed', { queueDepth: 50, inFlight: 4 });
      loop.observe('auto', { queueDepth: 4, inFlight: 4 });
      failNext = true;
      await loop.tick();
      expect(calls).toEqual([]);
      expect(errors).toEqual(['auto']);
      await loop.tick(); // retried
      expect(calls).toEqual([['auto', 2]]);
      now = 5_000;
      loop.observe('auto', { queueDepth: 20, inFlight: 8 });
      await loop.tick(); // inside the up cool-down
      expect(calls).toHaveLength(1);
      now = 10_000;
      await loop.tick();
      expect(calls).toEqual([
        ['auto', 2],
        ['auto', 4],
      ]);
      loop.noteManualScale('auto', 2);
      loop.observe('auto', { queueDepth: 0, inFlight: 8 });
      now = 11_000;
      await loop.tick(); // wants 2, has 2 after the manual scale
      expect(calls).toHaveLength(2);
    } finally {
      loop.stop();
    }
  });
});
