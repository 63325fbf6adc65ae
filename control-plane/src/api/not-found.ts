/**
 * Unknown routes answer 404 NOT_FOUND; a known path with the wrong method answers 405 with Allow.
 * Fastify only knows "no route", so the registered route patterns are kept here to tell them apart.
 */
import type { Api } from './types.js';
import { errorBody } from '../errors.js';

/** Fastify route URL (`:param`, `:param(regex)`, `::` for a literal colon) → anchored RegExp. */
export function routePattern(url: string): RegExp {
  let out = '';
  for (let i = 0; i < url.length; ) {
    if (url.startsWith('::', i)) {
      out += ':';
      i += 2;
    } else if (url[i] === ':') {
      // A plain parameter never spans a `:verb` suffix, so `POST /v1/functions/x:unknown` is 404, not 405.
      const match = /^:(\w+)(?:\(([^)]*)\))?/.exec(url.slice(i))!;
      out += match[2] ? `(?:${match[2].replace(/^\^/, '').replace(/\$$/, '')})` : '[^/:]+';
      i += match[0].length;
    } else {
      out += url[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${out}$`);
}

export function trackRoutesForMethodCheck(app: Api): void {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = routePattern(route.url);
    const existing = routes.find((r) => r.pattern.source === pattern.source);
    if (existing) {
      for (const m of methods) existing.methods.add(m);
    } else routes.push({ pattern, methods: new Set(methods) });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = new Set<string>();
    for (const route of routes) {
      if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    }
    if (allowed.size > 0 && !allowed.has(request.method)) {
      return reply
        .code(405)
        .header('allow', [...allowed].join(', '))
        .send(errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${[...allowed].join(', ')}`));
    }
    return reply.code(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${path.slice(0, 200)}`));
  });
}
