import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Runtime metric names, the same in every runtime (node, watchdog, python, java). */
export const RUNTIME_METRICS = {
  invocations: 'runtime_invocations_total',
  duration: 'runtime_invocation_duration_seconds',
  inFlight: 'runtime_in_flight',
  coldStart: 'runtime_cold_start_total',
  initDuration: 'runtime_init_duration_seconds',
} as const;

export type Outcome = 'success' | 'invalid_input' | 'error' | 'timeout';
const OUTCOMES: readonly Outcome[] = ['success', 'invalid_input', 'error', 'timeout'];

export interface RuntimeMetrics {
  registry: Registry;
  started(): void;
  finished(outcome: Outcome, seconds: number): void;
  coldStart(initSeconds: number): void;
}

export function createRuntimeMetrics(functionName: string): RuntimeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ function: functionName });
  collectDefaultMetrics({ register: registry });

  const invocations = new Counter({
    name: RUNTIME_METRICS.invocations,
    help: 'Invocations handled, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: RUNTIME_METRICS.duration,
    help: 'Handler duration in seconds (request body parsed → response written)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: RUNTIME_METRICS.inFlight, help: 'Invocations running now', registers: [registry] });
  const coldStarts = new Counter({
    name: RUNTIME_METRICS.coldStart,
    help: 'Invocations that were the first of this process (cold starts)',
    registers: [registry],
  });
  const initDuration = new Gauge({
    name: RUNTIME_METRICS.initDuration,
    help: 'Seconds from process start until the handler was loaded',
    registers: [registry],
  });

  // Bound children: the hot path must not hash label objects on every call.
  const byOutcome = new Map(OUTCOMES.map((o) => [o, invocations.labels(o)] as const));
  for (const child of byOutcome.values()) child.inc(0);
  coldStarts.inc(0);

  return {
    registry,
    started: () => inFlight.inc(),
    finished(outcome, seconds) {
      inFlight.dec();
      byOutcome.get(outcome)?.inc();
      duration.observe(seconds);
    },
    coldStart(initSeconds) {
      coldStarts.inc();
      initDuration.set(initSeconds);
    },
  };
}
