import type { Middleware } from 'koa';
import type { Config } from '../config.js';

/** The browser modules that <build-log> loads from another origin, and the page's own. */
const MODULE_PATH = /^\/(?:client\.js|embed\.js|js\/[\w-]+\.js|vendor\/[\w.-]+\.js)$/;

/**
 * `Access-Control-Allow-Origin: *` on our browser modules once CORS_ORIGINS is set, whatever
 * origins it lists: a page of another origin can only run a module script that carries it, and
 * without the element's code it could not even say that CORS_ORIGINS leaves its origin out.
 * These files are public code (the same for everyone, no credentials, no data); the API keeps
 * to the list. With CORS_ORIGINS unset the contract sends no CORS header at all (same-origin
 * only), so the element then works on the server's own pages alone.
 */
export function moduleCors(corsOrigins: Config['corsOrigins']): Middleware {
  return async (ctx, next) => {
    await next();
    if (corsOrigins === null) return;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return;
    if (ctx.status !== 200 && ctx.status !== 304) return;
    if (!MODULE_PATH.test(ctx.path) || ctx.response.get('Access-Control-Allow-Origin')) return;
    ctx.set('Access-Control-Allow-Origin', '*');
  };
}
