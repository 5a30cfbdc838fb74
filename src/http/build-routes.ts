import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Builds } from '../builds/builds-port.js';
import { BuildNotFoundError } from '../builds/build-errors.js';
import { isBuildId } from '../builds/build-record.js';
import { renderLogEvent, type LogRendering } from '../builds/log-text.js';
import { resolveProjectPath } from '../builds/project-path.js';
import type { LogEventData } from '../events/event-data.js';
import type { EventStreams } from '../events/event-log.js';
import { readFeedFrames } from '../events/read-feed-frames.js';
import { InvalidRequestError } from './http-errors.js';
import { readBuildRequest } from './read-build-request.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;

export interface BuildRoutesDeps {
  readonly service: Builds;
  readonly eventLog: EventStreams;
  readonly projectsRoots: readonly string[];
}

/** Starting, listing, reading, cancelling builds, and their logs as text. */
export function addBuildRoutes(router: Router, { service, eventLog, projectsRoots }: BuildRoutesDeps): void {
  router.post('/api/project/build', async (ctx) => {
    const request = await readBuildRequest(ctx);
    const earlier = request.idempotencyKey === null ? null : await service.findByIdempotencyKey(request.idempotencyKey);
    const { build, isNew } = earlier
      ? { build: earlier, isNew: false }
      : await service.create(await resolveProjectPath(request.projectPath, projectsRoots), request.idempotencyKey);
    ctx.status = isNew ? 202 : 200;
    ctx.set('Location', `/api/builds/${build.id}`);
    ctx.body = {
      msg: isNew ? 'Build started; follow its output at streamUrl.' : 'Build already started with this Idempotency-Key; follow its output at streamUrl.',
      build,
    };
  });

  router.get('/api/builds', async (ctx) => {
    ctx.body = { builds: await service.list(readLimit(ctx.query.limit)) };
  });

  router.get('/api/builds/:id', async (ctx) => {
    ctx.body = await service.get(checkedId(ctx.params.id));
  });

  router.post('/api/builds/:id/cancel', async (ctx) => {
    const build = await service.cancel(checkedId(ctx.params.id));
    ctx.status = 202;
    ctx.body = { build };
  });

  router.get('/api/workers', async (ctx) => {
    ctx.body = { workers: await service.workers() };
  });

  router.get('/api/builds/:id/log', async (ctx) => {
    const id = checkedId(ctx.params.id);
    await service.get(id);
    const rendering: LogRendering = ctx.query.raw === '1' || ctx.query.raw === 'true' ? 'raw' : 'text';
    const start = await eventLog.openBuildStream(id, null);
    if ('isFinished' in start) throw new BuildNotFoundError(id); // cannot happen without a last id
    const stream = Readable.from(renderLog(start.feed, start.feed.head(), rendering));
    stream.once('close', () => start.release());
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = stream;
  });
}

async function* renderLog(feed: Parameters<typeof readFeedFrames>[0], end: number, rendering: LogRendering): AsyncGenerator<string> {
  for await (const frames of readFeedFrames(feed, end)) {
    let text = '';
    for (const frame of frames) {
      if (frame.event === 'log') text += renderLogEvent(JSON.parse(frame.data) as LogEventData, rendering);
    }
    if (text !== '') yield text;
  }
}

function checkedId(id: string | undefined): string {
  if (id === undefined || !isBuildId(id)) throw new BuildNotFoundError(id ?? '');
  return id;
}

function readLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_LIST_LIMIT;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new InvalidRequestError('invalid_query', 'limit must be a positive integer (at most 500 builds are listed).');
  }
  return Math.min(Number(raw), MAX_LIST_LIMIT);
}
