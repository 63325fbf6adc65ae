/**
 * The attempts' shared deadline timer (dispatch/deadlines.ts), on a fake clock and
 * fake timers: attempts expire in deadline order whatever order they were added in, each exactly
 * when its time is up, an attempt that ends first never expires, and no timer is left armed once
 * nothing is pending (an idle control plane holds none).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines, type Pending } from '../../control-plane/src/dispatch/deadlines.js';

let expired: string[];

function attempt(name: string): Pending {
  return {
    deadline: 0,
    previous: undefined,
    next: undefined,
    expire() {
      expired.push(`${name}@${performance.now()}`);
    },
  };
}

beforeEach(() => {
  expired = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Deadlines', () => {
  it('expires attempts in deadline order, each when its time is up', () => {
    const deadlines = new Deadlines();
    deadlines.add(attempt('slow'), 300);
    deadlines.add(attempt('fast'), 50);
    vi.advanceTimersByTime(20);
    deadlines.add(attempt('middle'), 130); // due at 150
    deadlines.add(attempt('also-slow'), 280); // due at 300, after "slow" (added first)
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['fast@50', 'middle@150', 'slow@300', 'also-slow@300']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an attempt removed before its deadline never expires, and the timer moves on to the next', () => {
    const deadlines = new Deadlines();
    const first = attempt('first');
    deadlines.add(first, 100);
    deadlines.add(attempt('second'), 200);
    vi.advanceTimersByTime(60);
    deadlines.remove(first);
    deadlines.remove(first); // a second removal changes nothing
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['second@200']);
  });

  it('holds no timer once nothing is pending, and arms one again for the next attempt', () => {
    const deadlines = new Deadlines();
    const only = attempt('only');
    deadlines.add(only, 30_000);
    expect(vi.getTimerCount()).toBe(1);
    deadlines.remove(only);
    expect(vi.getTimerCount()).toBe(0);
    deadlines.add(attempt('next'), 10);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(['next@10']);
    deadlines.add(attempt('cleared'), 10);
    deadlines.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['next@10']);
  });
});
