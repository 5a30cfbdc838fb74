import type { Middleware } from 'koa';
import { redactUrl, type Logger } from '../logger.js';

/** One JSON line per request when its response is over (for a stream: when it closes). */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const startedAt = Date.now();
    ctx.res.once('close', () => {
      logger.info(
        { method: ctx.method, url: redactUrl(ctx.originalUrl), status: ctx.res.statusCode, ms: Date.now() - startedAt },
        'request',
      );
    });
    await next();
  };
}
