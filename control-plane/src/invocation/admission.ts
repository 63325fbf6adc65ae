/**
 * Sync admission control (docs/design.md §3.2). The estimated wait comes from the function's own
 * measured service time; with no measurement yet the call is admitted: rejecting in that state
 * would refuse a freshly registered function's queued calls, and admission could not stay on.
 */
import type { QueueRejectReason } from '../contracts/index.js';

/** Exponentially weighted mean of attempt durations, per function. */
export class ServiceTime {
  private meanMs = 0;
  private samples = 0;

  observe(ms: number): void {
    this.meanMs = this.samples === 0 ? ms : this.meanMs + 0.2 * (ms - this.meanMs);
    if (this.samples < 1_000_000) this.samples++;
  }

  /** Mean service time in ms, or undefined when nothing was measured yet. */
  get estimateMs(): number | undefined {
    return this.samples === 0 ? undefined : this.meanMs;
  }
}

export interface AdmissionInput {
  queued: number;
  inFlight: number;
  concurrency: number;
  queueSize: number;
  serviceTime: ServiceTime;
}

export interface AdmissionPolicy {
  enabled: boolean;
  maxEstimatedWaitMs: number;
}

/** Decides whether one more call may wait; undefined means admit. */
export function admissionReason(input: AdmissionInput, policy: AdmissionPolicy, sync: boolean): QueueRejectReason | undefined {
  const mustQueue = input.inFlight >= input.concurrency || input.queued > 0;
  if (!mustQueue) return undefined;
  if (input.queued >= input.queueSize) return 'depth';
  if (!sync || !policy.enabled) return undefined;
  const service = input.serviceTime.estimateMs;
  if (service === undefined) return undefined;
  // Everyone ahead, spread over the concurrency slots, each taking about one service time.
  const estimatedWaitMs = ((input.queued + 1) / input.concurrency) * service;
  return estimatedWaitMs > policy.maxEstimatedWaitMs ? 'est_wait' : undefined;
}
