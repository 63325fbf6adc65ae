/** Bearer-token guard for every /v1 route, active only when NANOFAAS_API_TOKEN is set. */
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Api } from './types.js';

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
  app.addHook('onRequest', async (request) => {
    // Decide by the matched route, not the raw URL: the router decodes the path, so a raw-URL
    // prefix check lets `/%761/functions` reach /v1/functions without a token.
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1')) return;
    if (!bearerMatches(request.headers.authorization, expected)) {
      throw new ApiError('UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <NANOFAAS_API_TOKEN>)', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
  });
}
