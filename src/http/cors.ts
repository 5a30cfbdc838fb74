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
    exposeHeaders: ['Location', 'Retry-After'],
    maxAge: 600,
  });
}
