import { Type, type Static } from '@sinclair/typebox';

/**
 * The per-function summary both engines write: k6's `--summary-export` shape (the metrics the
 * report reads), plus p(99) and a `nanofaas` block naming the run. Extra k6 metrics are allowed.
 */

const Trend = Type.Object({
  avg: Type.Number(),
  min: Type.Number(),
  med: Type.Number(),
  max: Type.Number(),
  'p(90)': Type.Number(),
  'p(95)': Type.Number(),
  'p(99)': Type.Optional(Type.Number()),
});

const Counter = Type.Object({ count: Type.Number({ minimum: 0 }), rate: Type.Number({ minimum: 0 }) });

/** k6 Rate metric: `passes` counts non-zero samples (for http_req_failed: the failed requests). */
const Rate = Type.Object({
  passes: Type.Number({ minimum: 0 }),
  fails: Type.Number({ minimum: 0 }),
  value: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

export const RunInfo = Type.Object({
  function: Type.String(),
  workload: Type.String(),
  runtime: Type.String(),
  engine: Type.Union([Type.Literal('builtin'), Type.Literal('k6')]),
  mode: Type.Union([Type.Literal('sync'), Type.Literal('async')]),
  start: Type.String(),
  end: Type.String(),
  thresholds: Type.Optional(Type.Object({ p95Ms: Type.Number(), p99Ms: Type.Number(), failedRate: Type.Number() })),
  /** Stopped (Ctrl-C, SIGTERM) before its stages ended: never a pass, whatever the figures say. */
  interrupted: Type.Optional(Type.Boolean()),
});
export type RunInfo = Static<typeof RunInfo>;

export const CheckResult = Type.Object({ name: Type.String(), passes: Type.Number(), fails: Type.Number() });

export const Summary = Type.Object({
  metrics: Type.Object({
    http_reqs: Counter,
    http_req_duration: Trend,
    http_req_failed: Rate,
    iterations: Counter,
    checks: Type.Optional(Rate),
    vus_max: Type.Optional(Type.Object({ value: Type.Number() })),
    /** Open-model runs only: iterations the arrival rate called for that found no free VU. */
    dropped_iterations: Type.Optional(Counter),
  }),
  root_group: Type.Optional(Type.Object({ checks: Type.Optional(Type.Record(Type.String(), CheckResult)) })),
  nanofaas: Type.Optional(RunInfo),
});
export type Summary = Static<typeof Summary>;

/** Failure rate of a summary whichever key (k6 `value`, or `rate`) carries it. */
export function failedRate(summary: Summary): number {
  const failed = summary.metrics.http_req_failed;
  if (failed.value !== undefined) return failed.value;
  if (failed.rate !== undefined) return failed.rate;
  const total = failed.passes + failed.fails;
  return total === 0 ? 0 : failed.passes / total;
}
