import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { UnauthorizedError } from '../errors.js';

/** What a request offers as its token: `Authorization: Bearer <t>`, else `?token=<t>`. */
export function offeredToken(authorization: string | undefined, queryToken: unknown): string | undefined {
  const fromHeader = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  return fromHeader ?? (typeof queryToken === 'string' ? queryToken : undefined);
}

/**
 * A check of offered tokens against AUTH_TOKEN. Both sides are hashed first, so the comparison
 * takes the same time whatever the length or content of the guess.
 */
export function tokenChecker(token: string): (offered: string | undefined) => boolean {
  const expected = digest(token);
  return (offered) => offered !== undefined && crypto.timingSafeEqual(digest(offered), expected);
}

/** Requires AUTH_TOKEN (for EventSource, which cannot set headers, `?token=` does too). */
export function requireToken(token: string): Middleware {
  const isValid = tokenChecker(token);
  return async (ctx, next) => {
    if (!isValid(offeredToken(ctx.get('Authorization'), ctx.query.token))) throw new UnauthorizedError();
    await next();
  };
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}
