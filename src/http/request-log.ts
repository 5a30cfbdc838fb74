import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { urlRedactor } from './redact-url.js';

/** One JSON line per request when its response is over (for a stream: when it closes). */
export function requestLog(logRequest: RequestLogger): Middleware {
  return async (ctx, next) => {
    // The listener lives as long as the response (hours, for a stream): it keeps strings, not ctx.
    const { res } = ctx;
    const seen = requestSeen(ctx.req);
    res.once('close', () => logRequest(seen, res.statusCode));
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

/** Writes a request's log line. */
export type RequestLogger = (seen: RequestSeen, status: number) => void;

/**
 * The request log: the URL with every token hidden whatever its spelling (see redact-url.ts),
 * and the Host and Origin received. The headers go through the same redactor: they are the
 * client's text too.
 */
export function requestLogger(logger: Logger, authToken: string | null): RequestLogger {
  const redact = urlRedactor(authToken);
  const redactHeader = (value: string | undefined) => (value === undefined ? undefined : redact(value));
  return ({ method, url, host, origin, forwardedHost, startedAt }, status) => {
    logger.info(
      { method, url: redact(url), status, host: redactHeader(host), origin: redactHeader(origin), forwardedHost: redactHeader(forwardedHost), ms: Date.now() - startedAt },
      'request',
    );
  };
}
