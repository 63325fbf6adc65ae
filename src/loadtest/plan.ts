import { parseDurationMs, totalDurationMs, type LoadProfile, type Stage } from './profile.js';

/**
 * When the ramp first has a VU (ms from the start), by the same math as `vusAt`: within a stage
 * the count climbs linearly from the previous target and a VU exists once the line reaches 1.
 * Undefined when no stage ever asks for one.
 */
export function firstVuAtMs(stages: readonly Stage[]): number | undefined {
  let from = 0;
  let stageStart = 0;
  for (const stage of stages) {
    const duration = parseDurationMs(stage.duration);
    if (from >= 1) return stageStart;
    if (stage.target >= 1) return duration === 0 ? stageStart : stageStart + duration / stage.target;
    from = stage.target;
    stageStart += duration;
  }
  return undefined;
}

const stagesText = (stages: readonly Stage[]) => stages.map((s) => `${s.duration}:${s.target}`).join(',');

/**
 * Why a profile's stages cannot send a single request, with the fix, or undefined when they can.
 * Think time plays no part: a VU sends its first request as soon as it starts and thinks after.
 */
export function unsendablePlan(profile: LoadProfile, fromFlag: boolean): string | undefined {
  const { stages } = profile;
  const source = fromFlag ? `--stages ${stagesText(stages)}` : "the load profile's stages";
  const first = firstVuAtMs(stages);
  if (first === undefined) {
    return `${source} cannot send a request: every stage targets 0 VUs; give one stage at least 1 VU, e.g. --stages 10s:1`;
  }
  const total = totalDurationMs(stages);
  if (first < total) return undefined;
  const hold = Math.max(1, stages.at(-1)?.target ?? 1);
  return (
    `${source} cannot send a request: ramping up (like k6), the first VU starts only when the ${formatSpan(total, false)} run ends; ` +
    `add a stage that holds the VUs, e.g. --stages ${stagesText(stages)},10s:${hold}`
  );
}

/** How long `functions` functions take one after another: their stages plus the cool-downs between. */
export function estimateRunMs(profile: LoadProfile, functions: number): number {
  if (functions <= 0) return 0;
  return totalDurationMs(profile.stages) * functions + profile.coolDownSeconds * 1000 * (functions - 1);
}

/** "7 min 40 s", "12 s", "1.5 s", "1 h 5 min"; with `about`, prefixed for an estimate. */
export function formatSpan(ms: number, about = false): string {
  let text: string;
  if (ms < 10_000) {
    text = `${Number((ms / 1000).toFixed(1))} s`;
  } else {
    const seconds = Math.round(ms / 1000);
    const h = Math.floor(seconds / 3600);
    const min = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0) text = min > 0 ? `${h} h ${min} min` : `${h} h`;
    else if (min > 0) text = s > 0 ? `${min} min ${s} s` : `${min} min`;
    else text = `${s} s`;
  }
  return about ? `about ${text}` : text;
}
