/**
 * Bearer-token guard for every /v1 route, active only when NANOFAAS_API_TOKEN is set. The runtime
 * callback route also takes the per-function callback credential (callback-credential.ts), valid
 * only for executions of that function.
 */
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import { callbackCredentials } from './callback-credential.js';
import type { Api } from './types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set on the runtime callback route: the function that owns execution `id`, or undefined
     * when there is no such execution. A caller holding that function's callback credential is let through.
     */
    callbackOwner?: (executionId: string) => string | undefined;
  }
}

/**
 * Constant-time check of an Authorization header against `Bearer <token>` (as bytes). Lengths are
 * compared in bytes: Node reads header values as latin1, so a string of the right length can
 * still encode to more UTF-8 bytes, and timingSafeEqual throws on unequal lengths.
 */
export function bearerMatches(given: string | undefined, expected: Buffer): boolean {
  if (typeof given !== 'string') return false;
  const bytes = Buffer.from(given);
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

export function bearerAuth(app: Api, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  const callbacks = callbackCredentials(token);
  app.addHook('onRequest', async (request) => {
    // Decide by the matched route, not the raw URL: the router decodes the path, so a raw-URL
    // prefix check lets `/%761/functions` reach /v1/functions without a token.
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1')) return;
    const authorization = request.headers.authorization;
    if (bearerMatches(authorization, expected)) return;
    const ownerOf = request.routeOptions.config.callbackOwner;
    if (ownerOf) {
      // An unknown execution has no owner, so only the API token gets past here (then a 404).
      const owner = ownerOf(String((request.params as { id?: unknown }).id ?? ''));
      if (owner !== undefined && callbacks.verify(owner, authorization)) return;
      throw new ApiError(
        'UNAUTHORIZED',
        "missing or wrong bearer token (the API token, or the CALLBACK_TOKEN of the execution's function)",
        undefined,
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    throw new ApiError('UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <NANOFAAS_API_TOKEN>)', undefined, {
      'www-authenticate': 'Bearer',
    });
  });
}
