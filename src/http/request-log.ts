import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { redactUrl, type Logger } from '../logger.js';

/** One JSON line per request when its response is over (for a stream: when it closes). */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    // The listener lives as long as the response (hours, for a stream): it keeps strings, not ctx.
    const { res } = ctx;
    const seen = requestSeen(ctx.req);
    res.once('close', () => logRequest(logger, seen, res.statusCode));
    await next();
  };
}

/** What a request's log line says about the request itself, taken when it arrives. */
export interface RequestSeen {
  readonly method: string;
  readonly url: string;
  /** The Host, Origin and X-Forwarded-Host headers as received: what the host and origin checks judged. */
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly forwardedHost: string | undefined;
  readonly startedAt: number;
}

/** The strings of a request that its log line needs, without keeping the request. */
export function requestSeen(req: IncomingMessage): RequestSeen {
  const forwarded = req.headers['x-forwarded-host'];
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    host: req.headers.host,
    origin: req.headers.origin,
    forwardedHost: Array.isArray(forwarded) ? forwarded.join(', ') : forwarded,
    startedAt: Date.now(),
  };
}

/** The request's log line: the URL with any token redacted, and the Host and Origin received. */
export function logRequest(logger: Logger, seen: RequestSeen, status: number): void {
  const { method, url, host, origin, forwardedHost, startedAt } = seen;
  logger.info({ method, url: redactUrl(url), status, host, origin, forwardedHost, ms: Date.now() - startedAt }, 'request');
}
