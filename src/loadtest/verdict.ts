import type { Thresholds } from './profile.js';
import { failedRate, type Summary } from './summary.js';

export interface ThresholdCheck {
  /** k6 expression, e.g. "p(95)<3000". */
  expression: string;
  actual: number;
  limit: number;
  passed: boolean;
}

export interface Verdict {
  passed: boolean;
  checks: ThresholdCheck[];
  /** The run was stopped before its stages ended: not passed, whatever its checks say. */
  interrupted?: true;
}

/**
 * Judge a summary against its runtime's thresholds, the way k6 judges the same expressions:
 * strict "less than". A summary without p(99) (k6 run without our scripts) fails that check
 * rather than passing silently.
 */
export function judge(summary: Summary, limits: Thresholds): Verdict {
  const duration = summary.metrics.http_req_duration;
  const checks: ThresholdCheck[] = [
    { expression: `p(95)<${limits.p95Ms}`, actual: duration['p(95)'], limit: limits.p95Ms },
    { expression: `p(99)<${limits.p99Ms}`, actual: duration['p(99)'] ?? Number.NaN, limit: limits.p99Ms },
    { expression: `rate<${limits.failedRate}`, actual: failedRate(summary), limit: limits.failedRate },
  ].map((check) => ({ ...check, passed: check.actual < check.limit }));
  // A run that sent nothing proves nothing: it fails instead of passing every limit at 0.
  const count = summary.metrics.http_reqs.count;
  if (count === 0) checks.push({ expression: 'count>0', actual: count, limit: 0, passed: false });
  // Part of a profile is not the profile: an interrupted run's figures judge nothing.
  if (summary.nanofaas?.interrupted === true) return { passed: false, checks, interrupted: true };
  return { passed: checks.every((check) => check.passed), checks };
}
