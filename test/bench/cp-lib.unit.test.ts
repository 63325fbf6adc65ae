import { describe, expect, it } from 'vitest';
import { balancedOrders, meanCI, t95 } from '../../bench/cp-lib.js';

describe('bench:cp statistics', () => {
  it("t95 is Student's t from the table within 1 % from 3 degrees of freedom", () => {
    const table: [number, number][] = [
      [3, 3.182],
      [5, 2.571],
      [11, 2.201],
      [23, 2.069],
      [47, 2.012],
      [1000, 1.962],
    ];
    for (const [df, t] of table) expect(Math.abs(t95(df) - t) / t, `df=${df}`).toBeLessThan(0.01);
  });

  it('meanCI gives the mean and the t interval of the samples', () => {
    // mean 3, sample sd sqrt(2.5), n 5: half-width t(4) · sd / sqrt(5) = 2.776 · 0.7071
    const { mean, half } = meanCI([1, 2, 3, 4, 5]);
    expect(mean).toBe(3);
    expect(half).toBeCloseTo(2.776 * Math.sqrt(2.5 / 5), 1);
    expect(meanCI([0.9, 0.9, 0.9]).half).toBe(0);
    expect(meanCI([0.9]).half).toBeNaN();
  });

  it('balancedOrders: each target follows each other one equally often', () => {
    const orders = balancedOrders(['direct', 'hop', 'cp']);
    expect(orders).toHaveLength(6);
    const follows = new Map<string, number>();
    for (const order of orders)
      for (let i = 1; i < order.length; i++)
        follows.set(`${order[i - 1]}>${order[i]}`, (follows.get(`${order[i - 1]}>${order[i]}`) ?? 0) + 1);
    expect(follows.size).toBe(6);
    expect(new Set(follows.values())).toEqual(new Set([2]));
  });
});
