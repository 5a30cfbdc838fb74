import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { Config } from '../config.js';

/**
 * CORS headers for the configured origins only, through @koa/cors. Unset CORS_ORIGINS means
 * same-origin use: no CORS headers at all (never a blanket `*` unless configured).
 */
export function corsFor(allowed: Config['corsOrigins']): Middleware | null {
  if (allowed === null) return null;
  return cors({
    origin: (ctx) => {
      if (allowed === '*') return '*';
      const origin = ctx.get('Origin');
      return allowed.includes(origin) ? origin : '';
    },
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}

const EXPOSED_HEADERS = ['Location', 'Retry-After'];

/**
 * The CORS headers of a simple GET, as the middleware above sends them, for the stream
 * endpoint that answers outside Koa (see stream-endpoint.ts). Its preflight still goes
 * through the middleware.
 */
export function simpleCorsHeaders(origin: string, allowed: Config['corsOrigins']): Record<string, string> {
  if (allowed === null || origin === '') return {};
  if (allowed !== '*' && !allowed.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': allowed === '*' ? '*' : origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS.join(','),
    Vary: 'Origin',
  };
}
