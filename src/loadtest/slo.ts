import { Type, type Static } from '@sinclair/typebox';
import type { Summary } from './summary.js';
import { failedRate } from './summary.js';

/**
 * The --slo of `loadtest --find-max`: "p95<20ms", "p99<1s", "failed<1%", several joined by
 * commas. A failure-rate limit of 1% applies when none is given.
 */
export const Slo = Type.Object({
  /** The text as given (or as completed with the default failure limit). */
  expression: Type.String(),
  latency: Type.Array(
    Type.Object({ percentile: Type.Union([Type.Literal(50), Type.Literal(90), Type.Literal(95), Type.Literal(99)]), maxMs: Type.Number() }),
  ),
  /** Failed requests, as a fraction (0.01 = 1%): strictly below it. */
  maxFailedRate: Type.Number(),
});
export type Slo = Static<typeof Slo>;

export const DEFAULT_MAX_FAILED_RATE = 0.01;

export class SloError extends Error {
  override name = 'SloError';
}

const HELP = 'expected p50|p90|p95|p99<N(ms|s) or failed<N%, comma-separated, e.g. p95<20ms,failed<1%';

export function parseSlo(text: string): Slo {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new SloError(`--slo is empty (${HELP})`);
  const slo: Slo = { expression: '', latency: [], maxFailedRate: DEFAULT_MAX_FAILED_RATE };
  for (const part of parts) {
    const latency = /^p(\d+)\s*<\s*(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(part);
    if (latency) {
      const percentile = Number(latency[1]);
      if (![50, 90, 95, 99].includes(percentile))
        throw new SloError(`--slo '${part}': percentile p${percentile} is not one of p50, p90, p95, p99`);
      const maxMs = Number(latency[2]) * (latency[3] === 's' ? 1000 : 1);
      if (maxMs <= 0) throw new SloError(`--slo '${part}': the limit must be above 0`);
      slo.latency.push({ percentile: percentile as 50 | 90 | 95 | 99, maxMs });
      continue;
    }
    const failed = /^failed\s*<\s*(\d+(?:\.\d+)?)\s*%$/.exec(part);
    if (failed) {
      const pct = Number(failed[1]);
      if (pct <= 0 || pct > 100) throw new SloError(`--slo '${part}': the failure limit must be above 0% and at most 100%`);
      slo.maxFailedRate = pct / 100;
      continue;
    }
    throw new SloError(`--slo '${part}' is not an SLO (${HELP})`);
  }
  if (slo.latency.length === 0) throw new SloError(`--slo '${text}' has no latency limit (${HELP})`);
  slo.expression = [...slo.latency.map((l) => `p${l.percentile}<${formatMs(l.maxMs)}`), `failed<${trim(slo.maxFailedRate * 100)}%`].join(
    ',',
  );
  return slo;
}

function trim(n: number): string {
  return String(Number(n.toFixed(3)));
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${trim(ms)}ms`;
}

const PERCENTILE_KEY = { 50: 'med', 90: 'p(90)', 95: 'p(95)', 99: 'p(99)' } as const;

/** Why a step's summary breaks the SLO, or undefined when it holds. */
export function sloBreach(slo: Slo, summary: Summary): string | undefined {
  const d = summary.metrics.http_req_duration;
  for (const { percentile, maxMs } of slo.latency) {
    const actual = d[PERCENTILE_KEY[percentile]] ?? Number.NaN;
    if (!(actual < maxMs)) return `p${percentile} ${actual.toFixed(1)} ms ≥ ${formatMs(maxMs)}`;
  }
  const failed = failedRate(summary);
  if (!(failed < slo.maxFailedRate)) return `${(failed * 100).toFixed(2)}% failed ≥ ${trim(slo.maxFailedRate * 100)}%`;
  return undefined;
}
