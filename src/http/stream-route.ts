import type Router from '@koa/router';
import type { Context } from 'koa';
import type { BuildService } from '../builds/build-service.js';
import { InvalidRequestError, PoolFullError } from '../errors.js';
import type { EventLog, StreamStart } from '../events/event-log.js';
import type { ClientPool } from '../sse/client-pool.js';
import { SseConnection, type ConnectionLimits } from '../sse/sse-connection.js';

export interface StreamRouteDeps {
  readonly service: BuildService;
  readonly eventLog: EventLog;
  readonly pool: ClientPool;
  readonly maxClients: number;
  readonly retryMs: number;
  readonly limits: ConnectionLimits;
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** How long the kernel waits before probing an idle stream's peer (finds vanished hosts). */
const KEEP_ALIVE_PROBE_MS = 30000;

/** GET /api/log/push: the global stream, or one build's with ?build=. */
export function addStreamRoute(router: Router, deps: StreamRouteDeps): void {
  router.get('/api/log/push', async (ctx) => {
    const buildId = singleQueryValue(ctx, 'build');
    // The header wins over the query parameter, as the contract says.
    const lastEventId = ctx.get('Last-Event-ID') || singleQueryValue(ctx, 'lastEventId') || null;
    if (buildId !== undefined) deps.service.get(buildId); // 404 for an unknown build
    if (ctx.method === 'HEAD') {
      // The headers a stream would get, without taking a slot for a body that never comes.
      ctx.set(SSE_HEADERS);
      ctx.status = 200;
      return;
    }

    if (!deps.pool.reserve()) throw new PoolFullError(deps.maxClients);
    let start: StreamStart;
    try {
      const opened = buildId === undefined ? deps.eventLog.openGlobalStream(lastEventId) : await deps.eventLog.openBuildStream(buildId, lastEventId);
      if ('isFinished' in opened) {
        // The client saw this build's `end`: 204 tells EventSource to stop reconnecting.
        deps.pool.unreserve();
        ctx.status = 204;
        return;
      }
      start = opened;
    } catch (error) {
      deps.pool.unreserve();
      throw error;
    }
    if (ctx.req.destroyed) {
      start.release();
      deps.pool.unreserve();
      return;
    }
    openStream(ctx, start, deps);
  });
}

function openStream(ctx: Context, start: StreamStart, deps: StreamRouteDeps): void {
  ctx.respond = false; // the connection writes to the socket itself, for as long as the stream lives
  const { res } = ctx;
  const socket = ctx.req.socket;
  // Node's server timeouts must never cut a long-lived stream.
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_PROBE_MS);
  // A close-delimited body: no chunked framing around every write; the stream ends with the connection.
  res.removeHeader('Transfer-Encoding');
  res.writeHead(200, { ...SSE_HEADERS, Connection: 'close' });
  res.flushHeaders();
  const connection = new SseConnection(res, start, deps.limits);
  deps.pool.add(connection);
  connection.open(deps.retryMs);
}

function singleQueryValue(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new InvalidRequestError('invalid_query', `Give ${name} once.`);
}

