/**
 * Startup readiness: GET /health until 200. Polling is confined to startup (the runtime gives no
 * other signal that its handler has loaded) and backs off exponentially, so a slow JVM costs a few
 * dozen probes, not thousands. Never used on the invocation path.
 */
import { request } from 'undici';

export interface ProbeOptions {
  signal: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Per-probe deadline so a runtime that accepts but never answers cannot stall startup. */
  probeTimeoutMs?: number;
}

/** Resolves when `${baseUrl}/health` answers 200; rejects only when `signal` aborts. */
export async function waitForHealth(baseUrl: string, options: ProbeOptions): Promise<void> {
  const { signal, initialDelayMs = 5, maxDelayMs = 250, probeTimeoutMs = 2000 } = options;
  let delay = initialDelayMs;
  for (;;) {
    signal.throwIfAborted();
    if (await probe(`${baseUrl}/health`, signal, probeTimeoutMs)) return;
    await abortableDelay(delay, signal);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

async function probe(url: string, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(url, { method: 'GET', signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/** setTimeout that an AbortSignal cancels (rejecting with the abort reason). */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
