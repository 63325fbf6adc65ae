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

export interface CallbackOptions {
  /** CALLBACK_TOKEN: the function's own credential, sent as `Authorization: Bearer …`. */
  token?: string | undefined;
  requestTimeoutMs?: number;
}

const RETRY_DELAYS_MS = [100, 500];

/** A 5xx may be a control plane restarting; anything else will not change on a retry. */
class Retryable extends Error {}

/**
 * Posts completions in the background: the invocation response has already been written when this
 * runs, so a slow or failing control plane never delays a caller (retries that sleep on the response
 * path would add their sleeps to every call). Global fetch reuses keep-alive connections.
 * A callback that did not end in a 2xx is logged with its status: the control plane then only has
 * the dispatcher's own answer, and a 401 means this replica's credential is wrong.
 */
export function createCallbackSender(baseUrl: string, logger: Logger, options: CallbackOptions = {}): CallbackSender {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  return (completion) => {
    const url = `${baseUrl}/${encodeURIComponent(completion.executionId)}:complete`;
    const body =
      completion.outputJson !== undefined
        ? `{"attempt":${completion.attempt},"status":"success","output":${completion.outputJson}}`
        : JSON.stringify({ attempt: completion.attempt, status: 'error', error: completion.error });
    void post(url, body, 0);

    async function post(target: string, payload: string, retry: number): Promise<void> {
      let status: number | undefined;
      try {
        const res = await fetch(target, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(requestTimeoutMs) });
        await res.body?.cancel();
        status = res.status;
        if (status >= 200 && status < 300) return;
        if (status >= 500) throw new Retryable(`HTTP ${status}`);
        // 4xx: 401/403 a credential problem, 404/409 an execution already ended or forgotten.
        logger('warn', 'callback failed', { executionId: completion.executionId, url: target, status, attempt: completion.attempt });
      } catch (err) {
        const delay = RETRY_DELAYS_MS[retry];
        if (delay === undefined) {
          logger('warn', 'callback failed', {
            executionId: completion.executionId,
            url: target,
            ...(status !== undefined ? { status } : { error: (err as Error).message }),
            attempt: completion.attempt,
            tries: retry + 1,
          });
          return;
        }
        setTimeout(() => void post(target, payload, retry + 1), delay).unref();
      }
    }
  };
}
