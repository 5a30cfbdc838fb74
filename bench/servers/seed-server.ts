import Koa from 'koa';
import sse, { type SseStream } from 'koa-sse-stream';
import { LineFeed } from './line-feed.js';
import { eventId, logEventJson, newBootTag, newBuildId } from './log-event.js';
import { projectDir, readBenchServerSettings } from './server-settings.js';

/**
 * SEED: the simple way, as koa-sse-stream's README shows it (and as the blog post that
 * started this project did it): Koa, the sse middleware, and one `ctx.sse.send` per line per
 * client. Each line's JSON is made once; the middleware frames it again for every client.
 * A finished build is replayed by calling send for each of its lines.
 */
const settings = readBenchServerSettings(process.env);
const boot = newBootTag();

interface SeedEvent {
  readonly id: string;
  readonly data: string;
}

interface SeedBuild {
  readonly id: string;
  status: 'running' | 'succeeded';
  readonly history: SeedEvent[];
  readonly clients: Set<SseStream>;
}

const builds = new Map<string, SeedBuild>();

function startBuild(projectPath: string): SeedBuild {
  const build: SeedBuild = { id: newBuildId(), status: 'running', history: [], clients: new Set() };
  builds.set(build.id, build);
  const feed = new LineFeed(projectDir(settings, projectPath), (lines, atMs) => {
    for (const text of lines) {
      const event = { id: eventId(boot, build.history.length + 1), data: logEventJson({ buildId: build.id, text, atMs }) };
      build.history.push(event);
      for (const client of build.clients) client.send({ id: event.id, event: 'log', data: event.data });
    }
  });
  void feed.done.then(() => {
    build.status = 'succeeded';
    for (const client of build.clients) client.sendEnd(endEvent(build));
    build.clients.clear();
  });
  return build;
}

function endEvent(build: SeedBuild): { id: string; event: string; data: string } {
  return { id: eventId(boot, build.history.length + 1), event: 'end', data: JSON.stringify({ build: { id: build.id, status: build.status } }) };
}

const app = new Koa();
app.use(sse({ maxClients: 1_000_000, pingInterval: 2 ** 31 - 1, matchQuery: 'build' }));
app.use(async (ctx) => {
  if (ctx.method === 'POST' && ctx.path === '/api/project/build') {
    let body = '';
    for await (const chunk of ctx.req) body += String(chunk);
    const build = startBuild((JSON.parse(body) as { projectPath: string }).projectPath);
    ctx.status = 202;
    ctx.body = { build: { id: build.id, status: build.status, streamUrl: `/api/log/push?build=${build.id}` } };
    return;
  }
  if (ctx.path === '/api/log/push') {
    const stream = (ctx as Koa.Context & { sse: SseStream }).sse;
    const build = builds.get(String(ctx.query.build));
    if (!build) {
      stream.sendEnd({ event: 'error', data: 'build_not_found' });
      return;
    }
    if (build.status === 'succeeded') {
      for (const event of build.history) stream.send({ id: event.id, event: 'log', data: event.data });
      stream.sendEnd(endEvent(build));
      return;
    }
    build.clients.add(stream);
    stream.on('close', () => build.clients.delete(stream));
    return;
  }
  const match = /^\/api\/builds\/([0-9a-z]+)$/.exec(ctx.path);
  const build = match ? builds.get(match[1]!) : undefined;
  if (build) ctx.body = { id: build.id, status: build.status };
  else if (ctx.path === '/healthz') ctx.body = { status: 'ok' };
  else ctx.status = 404;
});

const server = app.listen(settings.port, settings.host);
server.timeout = 0;
process.once('SIGTERM', () => process.exit(0));
