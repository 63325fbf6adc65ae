/**
 * Control-plane metric names (docs/design.md §6.1). The Grafana dashboard, the Prometheus snapshots of
 * `loadtest` and the report import these rather than spelling them again.
 */
export const METRICS = {
  enqueue: 'function_enqueue_total',
  dispatch: 'function_dispatch_total',
  success: 'function_success_total',
  error: 'function_error_total',
  retry: 'function_retry_total',
  timeout: 'function_timeout_total',
  queueRejected: 'function_queue_rejected_total',
  coldStart: 'function_cold_start_total',
  latency: 'function_latency_seconds',
  queueWait: 'function_queue_wait_seconds',
  e2eLatency: 'function_e2e_latency_seconds',
  queueDepth: 'function_queue_depth',
  inFlight: 'function_in_flight',
  replicas: 'function_replicas',
} as const;
