import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { UnauthorizedError } from '../errors.js';

/**
 * Requires AUTH_TOKEN as `Authorization: Bearer <t>` or, for EventSource which cannot set
 * headers, `?token=<t>`. Both sides are hashed first so the comparison takes the same time
 * whatever the length or content of the guess.
 */
export function requireToken(token: string): Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    const fromHeader = /^Bearer (.+)$/i.exec(header)?.[1];
    const fromQuery = typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
    const offered = fromHeader ?? fromQuery;
    if (offered === undefined || !crypto.timingSafeEqual(digest(offered), expected)) throw new UnauthorizedError();
    await next();
  };
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}
