import { BalancedPool, type Dispatcher, Pool } from 'undici';

/** One answered (or failed) HTTP exchange. status 0 = no HTTP answer (connection error, timeout). */
export interface Exchange {
  status: number;
  body: unknown;
  durationMs: number;
  error?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Keep-alive connections to the control plane, sized for the run's peak VU count. With several
 * control-plane replicas (`up --replicas N`, no load balancer in front), one pool per replica
 * behind undici's BalancedPool, which takes them in turn (and sends less to one that fails), so
 * the load reaches every replica as it would behind a Service.
 */
export function openPool(baseUrls: readonly string[], connections: number): Dispatcher {
  const options = { connections: Math.max(1, connections), keepAliveTimeout: 30_000, pipelining: 1 };
  const origins = [...new Set(baseUrls.map((url) => new URL(url).origin))];
  if (origins.length === 0) throw new Error('openPool needs at least one URL');
  return origins.length === 1 ? new Pool(origins[0]!, options) : new BalancedPool(origins, options);
}

/**
 * Send one request with a total deadline, read the whole body, and time it. A body that is not
 * JSON is kept as `undefined`: checks on it then fail, which is what a load test should report.
 */
export async function exchange(
  pool: Dispatcher,
  method: 'GET' | 'POST',
  path: string,
  payload: string | undefined,
  timeoutMs: number,
  stop: AbortSignal,
  extraHeaders: Record<string, string> = {},
): Promise<Exchange> {
  const started = performance.now();
  try {
    const response = await pool.request({
      method,
      path,
      headers: payload === undefined ? extraHeaders : { ...JSON_HEADERS, ...extraHeaders },
      body: payload,
      signal: AbortSignal.any([AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))), stop]),
    });
    const text = await response.body.text();
    const durationMs = performance.now() - started;
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, body, durationMs };
  } catch (error) {
    const durationMs = performance.now() - started;
    const err = error as Error & { code?: string };
    const reason = err.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (err.code ?? err.message);
    return { status: 0, body: undefined, durationMs, error: reason };
  }
}
