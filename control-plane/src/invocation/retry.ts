/**
 * Retry policy. Async attempts are retried for failures that may pass (runtime 5xx, connection
 * failure, timeout), never for the function's own 4xx. Sync calls retry only connection-level
 * failures, where the runtime never saw the request, and only within their deadline.
 */
export type FailureKind = 'rejected' | 'failed' | 'connection' | 'timeout';

export function shouldRetryAsync(kind: FailureKind, attempt: number, maxRetries: number): boolean {
  return kind !== 'rejected' && attempt <= maxRetries;
}

export function shouldRetrySync(kind: FailureKind, attempt: number, maxRetries: number, remainingMs: number): boolean {
  return kind === 'connection' && attempt <= maxRetries && remainingMs > 0;
}

/** Exponential back-off with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
