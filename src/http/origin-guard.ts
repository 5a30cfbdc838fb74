import type { Middleware } from 'koa';
import type { Config } from '../config.js';
import { ForbiddenOriginError } from '../errors.js';

/**
 * Refuses a request whose Origin is neither the origin it was addressed to
 * (`http://` + Host) nor an allowed CORS origin, so that a page on another site cannot start
 * builds with a form post or hold stream slots; requests without an Origin (curl, bots)
 * are not browsers' cross-site requests and pass.
 */
export function originGuard(allowed: Config['corsOrigins']): Middleware {
  return async (ctx, next) => {
    if (!isOriginAllowed(ctx.get('Origin'), ctx.get('Host'), allowed)) throw new ForbiddenOriginError(ctx.get('Origin'));
    await next();
  };
}

/** Whether a request with this Origin (empty: none) and Host may go on. */
export function isOriginAllowed(origin: string, host: string, allowed: Config['corsOrigins']): boolean {
  if (origin === '') return true;
  if (host !== '' && origin === `http://${host}`) return true;
  if (allowed === '*') return true;
  return allowed !== null && allowed.includes(origin);
}
