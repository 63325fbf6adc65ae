import { parseDurationMs, type Arrival, type LoadProfile } from './profile.js';

/**
 * Schedule math of the open model (k6's constant-arrival-rate and ramping-arrival-rate): the
 * rate is piecewise linear in time, and iteration i is due at the instant the integral of the
 * rate reaches i (so iteration 0 starts at once). Every due time is computed from the run's
 * start, never from the previous one, so timer lateness cannot accumulate into drift.
 */

/** One linear piece of the rate, in iterations per millisecond. */
interface Segment {
  startMs: number;
  durationMs: number;
  fromPerMs: number;
  toPerMs: number;
  /** Iterations due before this segment starts. */
  before: number;
}

export interface Schedule {
  totalMs: number;
  /** Iterations the whole schedule calls for (the integral over the run, rounded down, plus the one at 0). */
  total: number;
  segments: Segment[];
}

export class RateError extends Error {
  override name = 'RateError';
}

/** The schedule an open-model profile asks for; undefined for a closed-model one. */
export function scheduleOf(arrival: Arrival | undefined): Schedule | undefined {
  if (arrival === undefined) return undefined;
  const unitMs = parseDurationMs(arrival.timeUnit);
  const pieces: { durationMs: number; from: number; to: number }[] = [];
  if (arrival.rate !== undefined && arrival.duration !== undefined) {
    pieces.push({ durationMs: parseDurationMs(arrival.duration), from: arrival.rate, to: arrival.rate });
  } else if (arrival.stages !== undefined) {
    let from = arrival.startRate ?? 0;
    for (const stage of arrival.stages) {
      pieces.push({ durationMs: parseDurationMs(stage.duration), from, to: stage.target });
      from = stage.target;
    }
  } else {
    return undefined;
  }
  const segments: Segment[] = [];
  let startMs = 0;
  let before = 0;
  for (const piece of pieces) {
    const segment = { startMs, durationMs: piece.durationMs, fromPerMs: piece.from / unitMs, toPerMs: piece.to / unitMs, before };
    segments.push(segment);
    before += ((segment.fromPerMs + segment.toPerMs) / 2) * piece.durationMs;
    startMs += piece.durationMs;
  }
  // The integral is continuous; iterations are due at 0, 1, 2 … strictly before the end.
  const total = before > 0 ? Math.ceil(before - 1e-9) : 0;
  return { totalMs: startMs, total, segments };
}

/** Iterations due by `elapsedMs` (those with a due time ≤ elapsedMs). */
export function dueBy(schedule: Schedule, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  if (elapsedMs >= schedule.totalMs) return schedule.total;
  for (const s of schedule.segments) {
    if (elapsedMs < s.startMs + s.durationMs) {
      const t = elapsedMs - s.startMs;
      const area = s.before + s.fromPerMs * t + ((s.toPerMs - s.fromPerMs) * t * t) / (2 * s.durationMs);
      return Math.min(schedule.total, Math.floor(area + 1e-9) + 1);
    }
  }
  return schedule.total;
}

/** When iteration `index` (0-based) is due, ms from the start; Infinity past the last. */
export function dueAtMs(schedule: Schedule, index: number): number {
  if (index >= schedule.total) return Number.POSITIVE_INFINITY;
  for (const s of schedule.segments) {
    const after = s.before + ((s.fromPerMs + s.toPerMs) / 2) * s.durationMs;
    if (index >= after) continue;
    const area = index - s.before;
    if (area <= 0) return s.startMs;
    const slope = (s.toPerMs - s.fromPerMs) / s.durationMs;
    // Solve from·t + slope·t²/2 = area for the smallest t ≥ 0.
    const t =
      Math.abs(slope) < 1e-15 ? area / s.fromPerMs : (-s.fromPerMs + Math.sqrt(Math.max(0, s.fromPerMs ** 2 + 2 * slope * area))) / slope;
    return s.startMs + Math.min(Math.max(t, 0), s.durationMs);
  }
  return schedule.totalMs;
}

/** The arrival rate (per second) at a moment: what the progress line and the plan show. */
export function ratePerSecondAt(schedule: Schedule, elapsedMs: number): number {
  const s = schedule.segments.find((seg) => elapsedMs < seg.startMs + seg.durationMs) ?? schedule.segments.at(-1);
  if (s === undefined) return 0;
  const t = Math.min(Math.max(elapsedMs - s.startMs, 0), s.durationMs);
  return (s.fromPerMs + ((s.toPerMs - s.fromPerMs) * t) / s.durationMs) * 1000;
}

/** "100", "100/s", "6000/m", "2.5/s" → iterations per second. */
export function parseRate(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(ms|s|m|h))?\s*$/.exec(text);
  const per: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const value = match ? Number(match[1]) / (per[match[2] ?? 's'] ?? 1) : Number.NaN;
  if (!match || !Number.isFinite(value) || value <= 0 || value > 100_000) {
    throw new RateError(`invalid rate '${text}' (expected iterations per second above 0, e.g. 100/s, 6000/m)`);
  }
  return value;
}

/** "constant 100/s for 30s", "ramping 0→50/s in 10s, →200/s in 30s": how the plan line names it. */
export function describeArrival(profile: LoadProfile): string {
  const a = profile.arrival;
  if (a === undefined) return '';
  const unit = a.timeUnit === '1s' ? '/s' : `/${a.timeUnit}`;
  const pool = `${a.preAllocatedVUs}–${a.maxVUs} VUs`;
  if (a.rate !== undefined) return `constant ${a.rate}${unit} for ${a.duration ?? '?'} (${pool})`;
  const stages = (a.stages ?? []).map((s) => `${s.duration}:${s.target}`).join(',');
  return `ramping ${a.startRate ?? 0}${unit} then ${stages} (${pool})`;
}
