import type { Middleware } from 'koa';
import { isHostCheckExempt, type HostOriginPolicy } from './host-origin-policy.js';
import { addressOfRequest } from './request-address.js';

/**
 * 403 forbidden_host for a request that names a host that is not allowed, on every route
 * but GET /healthz: the page, static files and /metrics too, since a rebound page reads
 * whatever it can reach. First of the checks, as the contract's order of errors says.
 */
export function hostGuard(policy: HostOriginPolicy, trustProxy: boolean): Middleware {
  return async (ctx, next) => {
    if (!isHostCheckExempt(ctx.method, ctx.path)) {
      const refusal = policy.checkHost(addressOfRequest(ctx.req, trustProxy), ctx.req.headers);
      if (refusal) throw refusal;
    }
    await next();
  };
}
