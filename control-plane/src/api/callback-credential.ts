/**
 * Per-function callback credentials. A runtime must be able to report the result of its own
 * function's executions (`POST /v1/internal/executions/{id}:complete`) without holding the API
 * token, which would let function code register and run anything. Each function gets
 * HMAC-SHA256(key = API token, "nanofaas-callback:" + name): derived, not stored, so it is the same
 * after a restart and on every replica, and it changes when the API token is rotated.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const CONTEXT = 'nanofaas-callback:';

export interface CallbackCredentials {
  /** The credential of a function's runtimes; undefined when the API needs no token. */
  token(functionName: string): string | undefined;
  /** Constant-time: is `authorization` exactly `Bearer <credential of functionName>`? */
  verify(functionName: string, authorization: string | undefined): boolean;
}

function derive(apiToken: string, functionName: string): string {
  return createHmac('sha256', apiToken)
    .update(CONTEXT + functionName)
    .digest('base64url');
}

export function callbackCredentials(apiToken: string | undefined): CallbackCredentials {
  if (!apiToken) return { token: () => undefined, verify: () => false };
  return {
    token: (functionName) => derive(apiToken, functionName),
    verify(functionName, authorization) {
      if (typeof authorization !== 'string') return false;
      const expected = Buffer.from(`Bearer ${derive(apiToken, functionName)}`);
      // Header values arrive as latin1 strings: compare bytes, and only equal lengths (timingSafeEqual throws otherwise).
      const given = Buffer.from(authorization);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
