/** One function's series in the management port's Prometheus text (`GET /metrics`). */
import { METRICS } from '@nanofaas/control-plane/contracts';

export interface FunctionCounts {
  /** Accepted invocations, sync and async. */
  invocations: number;
  success: number;
  error: number;
  timeout: number;
  retries: number;
  rejected: number;
  coldStarts: number;
  inFlight: number;
  queueDepth: number;
  /** Mean time from acceptance to the end over the finished executions; undefined before the first. */
  meanE2eMs: number | undefined;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** `name{labels} value` lines; comments and lines that are not samples are skipped. */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    out.push({ name: m[1]!, labels: parseLabels(m[2] ?? ''), value });
  }
  return out;
}

/** `a="x",b="y \"q\""`: label values may hold escaped quotes, backslashes and newlines. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_all, ch: string) => (ch === 'n' ? '\n' : ch));
  }
  return labels;
}

/**
 * The counters and gauges labelled with this function. A function nobody has invoked yet has no
 * counter series: those read as 0. Undefined when the text holds no nanofaas series at all (it
 * is not a control plane's /metrics).
 */
export function functionCounts(text: string, fn: string): FunctionCounts | undefined {
  const all = samples(text);
  const known = new Set<string>(Object.values(METRICS));
  if (!all.some((s) => known.has(s.name.replace(/_(sum|count|bucket)$/, '')))) return undefined;
  const mine = all.filter((s) => s.labels.function === fn);
  const value = (name: string) => mine.find((s) => s.name === name)?.value ?? 0;
  const e2eCount = value(`${METRICS.e2eLatency}_count`);
  return {
    invocations: value(METRICS.enqueue),
    success: value(METRICS.success),
    error: value(METRICS.error),
    timeout: value(METRICS.timeout),
    retries: value(METRICS.retry),
    rejected: value(METRICS.queueRejected),
    coldStarts: value(METRICS.coldStart),
    inFlight: value(METRICS.inFlight),
    queueDepth: value(METRICS.queueDepth),
    meanE2eMs: e2eCount > 0 ? (value(`${METRICS.e2eLatency}_sum`) / e2eCount) * 1000 : undefined,
  };
}
