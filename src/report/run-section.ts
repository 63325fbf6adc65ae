import { formatSpan } from '../loadtest/plan.js';
import type { Thresholds } from '../loadtest/profile.js';
import type { RunFile } from '../loadtest/run-info.js';

/**
 * The top of every report form: how the run was made, as label/value pairs the terminal,
 * Markdown and HTML each lay out their own way (same words everywhere).
 */

export const stagesText = (run: RunFile): string => run.stages.map((s) => `${s.duration}:${s.target}`).join(',');

export const limitsText = (t: Thresholds): string =>
  `p95<${t.p95Ms} ms, p99<${t.p99Ms} ms, failed<${Number((t.failedRate * 100).toFixed(4))}%`;

export function thresholdsText(run: RunFile): string {
  const runtimes = Object.keys(run.thresholds).sort();
  if (runtimes.length === 0) return 'none';
  return runtimes.map((runtime) => `${runtime}: ${limitsText(run.thresholds[runtime] as Thresholds)}`).join('; ');
}

export const shortCommit = (commit: string): string => commit.slice(0, 12);

export function commitText(run: RunFile): string {
  return run.nanofaas.commit ? shortCommit(run.nanofaas.commit) : 'unknown (not run from a git checkout)';
}

export const cpuText = (run: RunFile): string => `${run.host.cpus} × ${run.host.cpuModel}`;

/** Runtimes with the images they ran from, e.g. "java (image localhost:5000/nanofaas/java:1), python". */
export function runtimesText(run: RunFile): string {
  const byRuntime = new Map<string, Set<string>>();
  for (const fn of run.functions) {
    const images = byRuntime.get(fn.runtime) ?? new Set<string>();
    if (fn.image) images.add(fn.image);
    byRuntime.set(fn.runtime, images);
  }
  return [...byRuntime.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([runtime, images]) => (images.size > 0 ? `${runtime} (image ${[...images].join(', ')})` : runtime))
    .join(', ');
}

/** The open model's schedule or the find-max search that made the load; undefined for VU stages (closed model). */
export function openModelText(run: RunFile): string | undefined {
  if (run.findMax) {
    const f = run.findMax;
    return `find-max: SLO ${f.slo}, ${f.stepDurationSeconds} s steps from ${f.startRate}/s up to ${f.maxRate}/s`;
  }
  const a = run.arrival;
  // An arrival block with neither a rate nor stages only sizes the VU pool: the run was closed-model.
  if (!a || (a.rate === undefined && a.stages === undefined)) return undefined;
  const rate =
    a.rate !== undefined
      ? `${a.rate}/${a.timeUnit} for ${a.duration ?? '?'}`
      : `${a.startRate ?? 0}/${a.timeUnit} then ${(a.stages ?? []).map((s) => `${s.duration}:${s.target}`).join(',')}`;
  return `arrival rate ${rate} (open model, ${a.preAllocatedVUs}–${a.maxVUs} VUs)`;
}

/** The VU stages, or the open model's schedule, or the find-max search, that made the load. */
function loadText(run: RunFile): string {
  const coolDown = `cool-down ${run.coolDownSeconds} s`;
  const open = openModelText(run);
  if (open) return `${open}, ${coolDown}`;
  return `stages ${stagesText(run)}, think time ${run.thinkTimeSeconds} s, ${coolDown}`;
}

export function runLines(run: RunFile | null): [string, string][] {
  if (run === null) {
    return [['Run', 'settings not recorded (no run.json: written by an older loadtest, or by k6 alone)']];
  }
  const span = formatSpan(Date.parse(run.end) - Date.parse(run.start));
  const versions = [`Node ${run.versions.node}`, ...(run.versions.k6 ? [`k6 ${run.versions.k6}`] : [])];
  return [
    ['Run', `${run.start} → ${run.end} (${span})${run.interrupted ? ', interrupted' : ''}`],
    ['Engine', `${run.engine}, ${run.mode} mode`],
    ['Load', loadText(run)],
    ['Thresholds', thresholdsText(run)],
    ['Target', `${run.target.name} (${run.target.apiUrl})`],
    ['Functions', run.functions.map((fn) => fn.name).join(', ')],
    ['Runtimes', `${runtimesText(run)} (runtime versions are not probed)`],
    ['nanofaas', `${run.nanofaas.version}, commit ${commitText(run)}`],
    ['Versions', versions.join(', ')],
    ['Machine', `${cpuText(run)} (${run.host.platform}/${run.host.arch})`],
  ];
}
