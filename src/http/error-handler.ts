import type { Middleware } from 'koa';
import { BodyTooLargeError, HttpError, InvalidBodyError, RouteNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Redactor } from './redact-url.js';

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
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false) throw new RouteNotFoundError(ctx.method, ctx.path);
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.status >= 500 && !(error instanceof HttpError)) {
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

/** Errors of libraries (body parser, router) as our named errors. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const status = (error as { status?: unknown })?.status;
  const type = (error as { type?: unknown })?.type;
  if (status === 413 || type === 'entity.too.large') return new BodyTooLargeError(MAX_BODY_BYTES);
  if (status === 400) return new InvalidBodyError('The body could not be parsed; send valid JSON or a urlencoded form.');
  if (status === 405) return new HttpError(405, 'method_not_allowed', 'This route does not take that method.');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', (error as Error).message || 'The request is not valid.');
  }
  return new HttpError(500, 'internal_error', 'Something went wrong on the server; it has been logged.');
}
