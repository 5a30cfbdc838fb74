import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { UnauthorizedError } from './http-errors.js';

/** What a request offers as its token: `Authorization: Bearer <t>`, else the plain `?token=<t>`. */
export function offeredToken(authorization: string | undefined, rawUrl: string): string | undefined {
  const fromHeader = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  return fromHeader ?? queryToken(rawUrl);
}

/** Characters that every encoder leaves as they are (encodeURIComponent, URLSearchParams, curl, Python). */
const NEVER_ENCODED = /^[A-Za-z0-9]$/;

/**
 * The token a URL carries as its query parameter, read from the raw URL: only the name
 * `token` spelled exactly so, given once (API.md, Auth). Query parsers decode names, so
 * `%74oken=` or `tok%65n=` would pass as `token` and then, not matching the log's redaction,
 * be logged in clear; one spelling is what lets every other part of the server recognise it.
 * The value may percent-encode what an encoder may encode (`%2B`, `%7E`: URLSearchParams, which
 * the page uses, writes `~` so), but an escape of a letter or digit (`%61` for `a`), which no
 * encoder writes, is another spelling and is refused.
 */
export function queryToken(rawUrl: string): string | undefined {
  const question = rawUrl.indexOf('?');
  if (question === -1) return undefined;
  const values = rawUrl
    .slice(question + 1)
    .split('#')[0]!
    .split('&')
    .filter((pair) => pair.startsWith('token='))
    .map((pair) => pair.slice('token='.length));
  if (values.length !== 1) return undefined;
  return decodeCanonicalValue(values[0]!);
}

function decodeCanonicalValue(raw: string): string | undefined {
  const escapes = raw.match(/%[0-9a-fA-F]{2}/g) ?? [];
  if (escapes.some((escape) => NEVER_ENCODED.test(String.fromCharCode(parseInt(escape.slice(1), 16))))) return undefined;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
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
    if (!isValid(offeredToken(ctx.get('Authorization'), ctx.originalUrl))) throw new UnauthorizedError();
    await next();
  };
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}
