import type { ComponentStatus } from '../target.js';

/** One HTTP GET for `status`: 2xx = running, any other answer = unhealthy, no answer = stopped. */
export async function probe(name: string, url: string, headers: Record<string, string> = {}): Promise<ComponentStatus> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    return { name, url, state: res.ok ? 'running' : 'unhealthy', detail: `HTTP ${res.status}` };
  } catch (error) {
    return { name, url, state: 'stopped', detail: error instanceof Error ? error.message : String(error) };
  }
}
