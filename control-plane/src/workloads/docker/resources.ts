/**
 * spec.resources (Kubernetes quantities, as the kubernetes backend takes them) → the Engine's
 * numbers. The meaning is kept: memory is a limit (the container is OOM-killed past it, as a pod
 * is), cpu is a request — a weight under contention (CpuShares), never a cap, because a cap
 * throttles a busy runtime into tail latency.
 */
import { DockerBackendError } from './errors.js';

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** A Kubernetes quantity ("512Mi", "0.5", "250m", "1e9") as a number, or undefined when malformed. */
export function parseQuantity(raw: string): number | undefined {
  const match = QUANTITY.exec(raw.trim());
  if (!match) return undefined;
  const [, digits, exponent, suffix = ''] = match;
  if (exponent !== undefined && suffix !== '') return undefined;
  const value = Number(digits) * 10 ** Number(exponent ?? 0) * (SUFFIX[suffix] as number);
  return Number.isFinite(value) ? value : undefined;
}

/** The Engine refuses a memory limit under 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 2 ** 20;

export function memoryBytes(functionName: string, raw: string): number {
  const value = parseQuantity(raw);
  if (value === undefined || value < MIN_MEMORY_BYTES) {
    throw new DockerBackendError(
      'VALIDATION_ERROR',
      `function ${functionName}: resources.memory must be a quantity of at least 6Mi (e.g. 128Mi, 1Gi), got "${raw}"`,
      0,
    );
  }
  return Math.ceil(value);
}

/** 1 cpu = 1024 shares (the Engine's default weight); at least 2, the Engine's minimum. */
export function cpuShares(functionName: string, raw: string): number {
  const value = parseQuantity(raw);
  if (value === undefined || value <= 0) {
    throw new DockerBackendError(
      'VALIDATION_ERROR',
      `function ${functionName}: resources.cpu must be a quantity above 0 (e.g. 500m, 1), got "${raw}"`,
      0,
    );
  }
  return Math.max(2, Math.round(value * 1024));
}
