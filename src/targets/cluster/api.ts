import type { FunctionOutcome } from '../target.js';
import { SMOKE_PAYLOADS, type CatalogFunction } from '../../util/catalog.js';

const TIMEOUT_MS = 30_000;
/** A function's first call may land before its pod is routable: retry gateway errors briefly. */
const RETRY_DELAYS_MS = [1_000, 3_000, 6_000];

async function call(url: string, init: RequestInit): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** The API token of the install as a bearer header (none when the release has no token). */
export function authHeader(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** GET /v1/functions → registered names, or an error message. */
export async function registeredFunctions(apiUrl: string, token?: string): Promise<string[]> {
  const { status, body, text } = await call(`${apiUrl}/v1/functions`, { method: 'GET', headers: authHeader(token) });
  if (status !== 200 || !Array.isArray(body)) throw new Error(`GET ${apiUrl}/v1/functions answered ${status}: ${text.slice(0, 200)}`);
  return body.map((f) => String((f as { name?: unknown }).name));
}

/** DELETE /v1/functions/{name}; a 404 (already gone) is success. */
export async function deleteRegisteredFunction(apiUrl: string, name: string, token?: string): Promise<void> {
  const { status, text } = await call(`${apiUrl}/v1/functions/${encodeURIComponent(name)}`, {
    method: 'DELETE',
    headers: authHeader(token),
  });
  if (status >= 300 && status !== 404) throw new Error(`DELETE ${apiUrl}/v1/functions/${name} answered ${status}: ${text.slice(0, 200)}`);
}

/** One smoke invocation: 200 and the workload's check on the output. */
export async function smokeInvoke(apiUrl: string, fn: CatalogFunction, token?: string): Promise<FunctionOutcome> {
  const payload = SMOKE_PAYLOADS[fn.workload];
  if (!payload) return { name: fn.name, runtime: fn.runtime, skipped: `no smoke payload for workload ${fn.workload}` };
  const url = `${apiUrl}/v1/functions/${encodeURIComponent(fn.name)}:invoke`;
  const started = performance.now();
  let message = '';
  for (let attempt = 0; ; attempt++) {
    try {
      const { status, body, text } = await call(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeader(token) },
        body: JSON.stringify({ input: payload.input }),
      });
      const output = (body as { output?: unknown } | undefined)?.output;
      if (status === 200 && payload.check(output)) {
        return { name: fn.name, runtime: fn.runtime, smoke: { ok: true, ms: Math.round(performance.now() - started) } };
      }
      message = `HTTP ${status}: ${text.slice(0, 200)}`;
      if (status < 500) break;
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  return { name: fn.name, runtime: fn.runtime, smoke: { ok: false, ms: Math.round(performance.now() - started), message } };
}

/** Prometheus answers an instant query (`up`). */
export async function prometheusAnswers(promUrl: string): Promise<void> {
  const { status, text } = await call(`${promUrl}/api/v1/query?query=up`, { method: 'GET' });
  if (status !== 200) throw new Error(`GET ${promUrl}/api/v1/query?query=up answered ${status}: ${text.slice(0, 200)}`);
}
