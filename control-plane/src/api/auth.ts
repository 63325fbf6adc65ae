/** Bearer-token guard for every /v1 route, active only when NANOFAAS_API_TOKEN is set. */
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Api } from './types.js';

export function bearerAuth(app: Api, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/') && request.url !== '/v1') return;
    const given = request.headers.authorization;
    const ok =
      typeof given === 'string' && given.length === expected.length && timingSafeEqual(Buffer.from(given), expected);
    if (!ok) {
      throw new ApiError('UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <NANOFAAS_API_TOKEN>)', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
  });
}
