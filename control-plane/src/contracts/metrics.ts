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

/**
 * Upper bounds (seconds) of the three control-plane histograms (docs/design.md §6.1). Fine below
 * 10 ms, where most calls of this platform land: steps of 20–50 %, so histogram_quantile's linear
 * interpolation stays inside a narrow bucket; 50 µs and 100 µs so an idle queue's wait is measured
 * rather than read off the first bucket's edge. Coarse from 10 ms up to 30 s; prom-client adds
 * +Inf. 26 bounds: observe() scans them linearly, and each is one series per histogram and function.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.0075, 0.01, 0.015, 0.025, 0.05,
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;
