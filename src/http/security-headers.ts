import type { Middleware } from 'koa';

/** Headers every response carries; no-referrer keeps a `?token=` URL from leaking to other sites. */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  };
}
