import type { Logger } from './log.js';

/** What a runtime reports to `{CALLBACK_URL}/{executionId}:complete`. */
export interface Completion {
  executionId: string;
  attempt: number;
  /** The output as JSON text (success), or the error body fields. */
  outputJson?: string;
  error?: { error: string; message: string };
}

export type CallbackSender = (completion: Completion) => void;

const RETRY_DELAYS_MS = [100, 500];

/**
 * Posts completions in the background: the invocation response has already been written when this
 * runs, so a slow or failing control plane never delays a caller (the original Java runtime slept
 * through its retries on the response path). Global fetch reuses keep-alive connections.
 */
export function createCallbackSender(baseUrl: string, logger: Logger, requestTimeoutMs = 10_000): CallbackSender {
  return (completion) => {
    const url = `${baseUrl}/${encodeURIComponent(completion.executionId)}:complete`;
    const body =
      completion.outputJson !== undefined
        ? `{"attempt":${completion.attempt},"status":"success","output":${completion.outputJson}}`
        : JSON.stringify({ attempt: completion.attempt, status: 'error', error: completion.error });
    void post(url, body, 0);

    async function post(target: string, payload: string, retry: number): Promise<void> {
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        await res.body?.cancel();
        // 404/409: the control plane already finished this execution (or forgot it) — nothing to retry.
        if (res.status < 500) return;
        throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        const delay = RETRY_DELAYS_MS[retry];
        if (delay === undefined) {
          logger('warn', 'callback failed', { url: target, error: (err as Error).message });
          return;
        }
        setTimeout(() => void post(target, payload, retry + 1), delay).unref();
      }
    }
  };
}
