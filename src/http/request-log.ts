import type { Middleware } from 'koa';
import { redactUrl, type Logger } from '../logger.js';

/** One JSON line per request when its response is over (for a stream: when it closes). */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    // The listener lives as long as the response (hours, for a stream): it keeps strings, not ctx.
    const { method, originalUrl, res } = ctx;
    const startedAt = Date.now();
    res.once('close', () => logRequest(logger, method, originalUrl, res.statusCode, startedAt));
    await next();
  };
}

/** The request's log line: the URL with any token redacted. */
export function logRequest(logger: Logger, method: string, url: string, status: number, startedAt: number): void {
  logger.info({ method, url: redactUrl(url), status, ms: Date.now() - startedAt }, 'request');
}
