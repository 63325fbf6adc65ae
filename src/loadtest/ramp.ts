import { parseDurationMs, type Stage } from './profile.js';

/**
 * Ramp math of k6's ramping-vus executor: within a stage the VU count moves linearly from the
 * previous target to this one, and a VU is added (or removed) only once the line has fully
 * reached the next integer, i.e. the fraction is truncated towards the stage's start value.
 */
export function vusAt(stages: readonly Stage[], elapsedMs: number, startVus = 0): number {
  let from = startVus;
  let stageStart = 0;
  for (const stage of stages) {
    const duration = parseDurationMs(stage.duration);
    const to = stage.target;
    if (elapsedMs < stageStart + duration) {
      if (elapsedMs < stageStart) return from;
      const exact = from + ((to - from) * (elapsedMs - stageStart)) / duration;
      // Round towards `from`; the epsilon absorbs float error at exact step boundaries.
      return to >= from ? Math.floor(exact + 1e-9) : Math.ceil(exact - 1e-9);
    }
    from = to;
    stageStart += duration;
  }
  return from;
}

/** Highest VU count any moment of the ramp needs (sizes the connection pool). */
export function maxVus(stages: readonly Stage[], startVus = 0): number {
  return stages.reduce((max, stage) => Math.max(max, stage.target), startVus);
}
