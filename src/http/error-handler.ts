import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { mapDomainError } from './error-map.js';
import { BodyTooLargeError, HttpError, InternalServerError, MethodNotAllowedError, RouteNotFoundError } from './http-errors.js';
import type { Redactor } from './redact-url.js';

/** What a path that no route serves may take: the static files' methods. */
const STATIC_METHODS = 'GET, HEAD';

/** The largest request body accepted, as the contract says. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The one place where errors become HTTP: every error body is
 * `{ "error": { "code", "message" } }`, and nothing unexpected leaks a stack or crashes.
 */
export function errorHandler(logger: Logger, redact: Redactor): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body == null && ctx.respond !== false) {
        if (ctx.status === 404) throw new RouteNotFoundError(ctx.method, ctx.path);
        // The router's answer to a method it does not take here (405) or anywhere (501: TRACE, PROPFIND).
        if (ctx.status === 405 || ctx.status === 501) throw new MethodNotAllowedError(ctx.method, ctx.response.get('Allow') || STATIC_METHODS);
      }
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError instanceof InternalServerError) {
        logger.error({ err: error, method: ctx.method, path: redact(ctx.path) }, 'request failed');
      }
      ctx.status = httpError.status;
      ctx.set({ ...httpError.headers });
      ctx.body = errorBody(httpError);
    }
  };
}

/** The JSON body of an error response. */
export function errorBody(error: HttpError): Record<string, unknown> {
  return { error: { code: error.code, message: error.message }, ...error.body };
}

/**
 * Any thrown value as an HttpError: ours as they are, domain errors through the table of
 * error-map.ts, errors of libraries as our named errors, anything else as a 500. The body
 * parser's own are mapped where the body is read (read-build-request.ts), so a 400 here is
 * not taken for a bad body.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const mapped = mapDomainError(error);
  if (mapped) return mapped;
  const status = (error as { status?: unknown })?.status;
  const type = (error as { type?: unknown })?.type;
  if (status === 413 || type === 'entity.too.large') return new BodyTooLargeError(MAX_BODY_BYTES);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', (error as Error).message || 'The request is not valid.');
  }
  return new InternalServerError();
}
