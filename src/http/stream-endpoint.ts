import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Builds } from '../builds/builds-port.js';
import type { Config } from '../config.js';
import type { EventStreams, StreamStart } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import type { ClientPool } from '../sse/client-pool.js';
import { SseConnection, type ConnectionLimits } from '../sse/sse-connection.js';
import { offeredToken, tokenChecker } from './auth.js';
import { simpleCorsHeaders } from './cors.js';
import { errorBody, toHttpError } from './error-handler.js';
import { InternalServerError, InvalidRequestError, MethodNotAllowedError, PoolFullError, TooManyStreamsError, UnauthorizedError } from './http-errors.js';
import { hostOriginPolicy } from './host-origin-policy.js';
import { addressOfRequest } from './request-address.js';
import { requestLogger, requestSeen } from './request-log.js';
import { SECURITY_HEADERS } from './security-headers.js';

export const STREAM_PATH = '/api/log/push';

export interface StreamEndpointDeps {
  readonly service: Builds;
  readonly eventLog: EventStreams;
  readonly pool: ClientPool;
  readonly config: Pick<Config, 'maxClients' | 'retryMs' | 'authToken' | 'corsOrigins' | 'publicUrl' | 'allowedHosts' | 'trustProxy' | 'maxClientsPerAddress'>;
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
}

/** Answers a request if it is one for the stream endpoint; false when it is not its own. */
export type StreamEndpoint = (req: IncomingMessage, res: ServerResponse) => boolean;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** How long the kernel waits before probing an idle stream's peer (finds vanished hosts). */
const KEEP_ALIVE_PROBE_MS = 30000;

/**
 * GET /api/log/push, the global stream or one build's with ?build=, answered in front of Koa:
 * Koa keeps a request's whole context alive (through on-finished's listeners) until its
 * response ends, and a stream's response lasts for hours, which doubled the memory of every
 * idle stream. The checks are the same functions the Koa middleware uses, in the contract's
 * order: host (403), token (401), origin (403), then the stream's own (404, 503, 204).
 */
export function createStreamEndpoint(deps: StreamEndpointDeps): StreamEndpoint {
  const isTokenValid = deps.config.authToken === null ? null : tokenChecker(deps.config.authToken);
  const policy = hostOriginPolicy(deps.config);
  const logRequest = requestLogger(deps.logger, deps.config.authToken);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stream.invalid');
    // Preflights go to Koa's CORS middleware like every other route's.
    if (url.pathname !== STREAM_PATH || req.method === 'OPTIONS') return false;
    const seen = requestSeen(req);
    res.once('close', () => logRequest(seen, res.statusCode));
    const origin = req.headers.origin ?? '';
    for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...simpleCorsHeaders(origin, deps.config.corsOrigins) })) res.setHeader(name, value);
    try {
      const address = addressOfRequest(req, deps.config.trustProxy);
      const wrongHost = policy.checkHost(address, req.headers);
      if (wrongHost) throw wrongHost;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', 'GET, HEAD, OPTIONS');
      if (isTokenValid && !isTokenValid(offeredToken(req.headers.authorization, req.url ?? ''))) throw new UnauthorizedError();
      const wrongOrigin = policy.checkOrigin(req.headers.origin, address);
      if (wrongOrigin) throw wrongOrigin;
      void openStream(req, res, url, deps, address.clientAddress).catch((error: unknown) => sendError(res, error, deps.logger));
    } catch (error) {
      sendError(res, error, deps.logger);
    }
    return true;
  };
}

async function openStream(req: IncomingMessage, res: ServerResponse, url: URL, deps: StreamEndpointDeps, clientAddress: string): Promise<void> {
  const buildId = single(url, 'build', true);
  // The header wins over the query parameter, as the contract says.
  const lastEventId = header(req, 'last-event-id') || single(url, 'lastEventId', true) || null;
  if (buildId !== undefined) await deps.service.get(buildId); // 404 for an unknown build
  if (req.method === 'HEAD') {
    // The headers a stream would get, without taking a slot for a body that never comes.
    res.writeHead(200, SSE_HEADERS).end();
    return;
  }
  const reservation = deps.pool.reserve(clientAddress);
  if (reservation === 'address_full') throw new TooManyStreamsError(deps.config.maxClientsPerAddress);
  if (reservation === 'pool_full') throw new PoolFullError(deps.config.maxClients);
  let start: StreamStart;
  try {
    const opened = buildId === undefined ? await deps.eventLog.openGlobalStream(lastEventId) : await deps.eventLog.openBuildStream(buildId, lastEventId);
    if ('isFinished' in opened) {
      // The client saw this build's `end`: 204 tells EventSource to stop reconnecting.
      deps.pool.unreserve(clientAddress);
      res.writeHead(204).end();
      return;
    }
    start = opened;
  } catch (error) {
    deps.pool.unreserve(clientAddress);
    throw error;
  }
  // The client may have gone while the history was opened (its socket is then detached).
  if (req.destroyed || res.destroyed || res.socket === null) {
    start.release();
    deps.pool.unreserve(clientAddress);
    return;
  }
  const socket = req.socket;
  // Node's server timeouts must never cut a long-lived stream.
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_PROBE_MS);
  // A close-delimited body: no chunked framing around every write; the stream ends with the connection.
  res.removeHeader('Transfer-Encoding');
  res.writeHead(200, { ...SSE_HEADERS, Connection: 'close' });
  res.flushHeaders();
  const connection = new SseConnection(res, start, deps.limits);
  deps.pool.add(connection, clientAddress);
  connection.open(deps.config.retryMs);
}

function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  const httpError = toHttpError(error);
  if (httpError instanceof InternalServerError) logger.error({ err: error }, 'stream request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(httpError));
  res.writeHead(httpError.status, {
    ...httpError.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A query parameter given at most once (`strict`: twice is a 400; else it counts as absent). */
function single(url: URL, name: string, strict: boolean): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length <= 1) return values[0];
  if (strict) throw new InvalidRequestError('invalid_query', `Give ${name} once.`);
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
