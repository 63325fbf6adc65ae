/**
 * Retry policy. Async attempts are retried for failures that may pass (runtime 5xx, connection
 * failure, timeout), never for the function's own 4xx. A sync caller waits for one answer, and
 * its handler must not run twice behind its back: a sync call is resent only when the request
 * provably never reached the runtime (the connection was refused), or when the caller gave an
 * Idempotency-Key and so accepts a second run; then connection failures of any kind are resent.
 * Always within the call's deadline.
 */
export type FailureKind = 'rejected' | 'failed' | 'refused' | 'connection' | 'timeout';

export function shouldRetryAsync(kind: FailureKind, attempt: number, maxRetries: number): boolean {
  return kind !== 'rejected' && attempt <= maxRetries;
}

export function shouldRetrySync(kind: FailureKind, attempt: number, maxRetries: number, remainingMs: number, idempotent = false): boolean {
  const resendable = kind === 'refused' || (idempotent && kind === 'connection');
  return resendable && attempt <= maxRetries && remainingMs > 0;
}

/** Exponential back-off with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
