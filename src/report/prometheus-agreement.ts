/**
 * Do the control plane's percentiles (Prometheus, whole test window) agree with the client's own?
 * A pure comparison for the report (issue 12 §1): no I/O, no formatting.
 */
import type { SnapshotMetric, WindowSnapshot } from '../loadtest/prometheus.js';
import type { Summary } from '../loadtest/summary.js';

/** Server within ±25 % of the client, at p50 and at p95. */
export const AGREEMENT_TOLERANCE = 0.25;

/**
 * The histogram set beside the client's http_req_duration: end-to-end (acceptance → terminal
 * state) spans what the control plane does for a call, queue wait included; the per-attempt
 * latency histogram leaves the queue out, so under load it reads low against the client.
 */
export const AGREEMENT_METRIC: SnapshotMetric = 'e2e';

export interface Agreement {
  metric: SnapshotMetric;
  /** Milliseconds: the client's med and p(95). */
  clientP50: number;
  clientP95: number;
  /** Milliseconds over the whole window; null when Prometheus saw no observation. */
  serverP50: number | null;
  serverP95: number | null;
  /** server ÷ client; null when either side has no figure (or the client's is 0). */
  ratio50: number | null;
  ratio95: number | null;
  /** Both ratios within 1 ± tolerance. */
  agrees: boolean;
  tolerance: number;
}

export interface AgreementOptions {
  metric?: SnapshotMetric;
  tolerance?: number;
}

function ratio(server: number | null, client: number): number | null {
  return server === null || !(client > 0) ? null : server / client;
}

/**
 * Compares a function's client summary with its Prometheus window snapshot. Undefined when there
 * is nothing to compare: no snapshot, or one from a file written before whole-window figures.
 */
export function prometheusAgreement(
  summary: Summary,
  snapshot: WindowSnapshot | undefined,
  options: AgreementOptions = {},
): Agreement | undefined {
  const whole = snapshot?.whole;
  if (whole === undefined) return undefined;
  const metric = options.metric ?? AGREEMENT_METRIC;
  const tolerance = options.tolerance ?? AGREEMENT_TOLERANCE;
  const duration = summary.metrics.http_req_duration;
  const clientP50 = duration.med;
  const clientP95 = duration['p(95)'];
  const serverP50 = whole.percentiles[metric].p50;
  const serverP95 = whole.percentiles[metric].p95;
  const ratio50 = ratio(serverP50, clientP50);
  const ratio95 = ratio(serverP95, clientP95);
  const within = (r: number | null) => r !== null && Math.abs(r - 1) <= tolerance;
  return { metric, clientP50, clientP95, serverP50, serverP95, ratio50, ratio95, agrees: within(ratio50) && within(ratio95), tolerance };
}
