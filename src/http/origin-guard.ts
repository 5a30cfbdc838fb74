import type { Middleware } from 'koa';
import type { HostOriginPolicy } from './host-origin-policy.js';
import { addressOfRequest } from './request-address.js';

/**
 * 403 forbidden_origin for a request whose Origin is not allowed (see host-origin-policy.ts),
 * so that a page on another site cannot start builds with a form post or read the API;
 * requests without an Origin (curl, bots) are not browsers' cross-site requests and pass.
 */
export function originGuard(policy: HostOriginPolicy, trustProxy: boolean): Middleware {
  return async (ctx, next) => {
    const refusal = policy.checkOrigin(ctx.req.headers.origin, addressOfRequest(ctx.req, trustProxy));
    if (refusal) throw refusal;
    await next();
  };
}
