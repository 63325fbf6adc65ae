import type { LoadProfile, OutputCheck, WorkloadPayload } from './profile.js';
import { ProfileError } from './profile.js';

/** Returns [0, 1) like Math.random; injected so tests can replay a sequence. */
export type Rng = () => number;

function pick<T>(list: readonly T[], rng: Rng): T {
  const item = list[Math.floor(rng() * list.length)];
  if (item === undefined) throw new ProfileError('empty list in the load profile');
  return item;
}

function between(range: { min: number; max: number }, rng: Rng): number {
  return range.min + Math.floor(rng() * (range.max - range.min + 1));
}

export function workloadPayload(profile: LoadProfile, workload: string): WorkloadPayload {
  const spec = profile.workloads[workload];
  if (spec === undefined) {
    throw new ProfileError(
      `no payload for workload "${workload}" in the load profile (known: ${Object.keys(profile.workloads).join(', ')})`,
    );
  }
  return spec;
}

/** The input of one iteration, drawn the way k6/lib/profile.js draws it. */
export function buildInput(spec: WorkloadPayload, rng: Rng): unknown {
  if (spec.kind === 'texts') return { text: pick(spec.texts, rng), topN: spec.topN };
  const operation = pick(spec.operations, rng);
  const data = Array.from({ length: spec.rows }, () => ({
    [spec.groupBy]: pick(spec.departments, rng),
    [spec.valueField]: between(spec.salary, rng),
    age: between(spec.age, rng),
  }));
  return operation === 'count'
    ? { data, groupBy: spec.groupBy, operation }
    : { data, groupBy: spec.groupBy, operation, valueField: spec.valueField };
}

export function readPath(value: unknown, path: string): unknown {
  let node: unknown = value;
  for (const key of path.split('.')) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

/** The check's name as k6 reports it, e.g. "output.wordCount > 0". */
export function checkName(check: OutputCheck): string {
  return 'greaterThan' in check ? `${check.path} > ${check.greaterThan}` : `${check.path} defined`;
}

export function passesCheck(check: OutputCheck, body: unknown): boolean {
  const value = readPath(body, check.path);
  if ('greaterThan' in check) return typeof value === 'number' && value > check.greaterThan;
  return value !== undefined;
}

export const STATUS_CHECK = 'status is 200';
