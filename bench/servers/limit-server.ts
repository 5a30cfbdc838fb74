import http from 'node:http';
import { LineFeed } from './line-feed.js';
import { eventId, logEventJson, newBootTag, newBuildId } from './log-event.js';
import { projectDir, readBenchServerSettings } from './server-settings.js';

/**
 * LIMIT: what plain Node does for this job, with nothing else in the way. A raw node:http
 * server; each tick's lines are framed once into one Buffer and written once to every
 * client; bodies are close-delimited (no chunked framing); a finished build is replayed from
 * memory as one slice. Its only bound: a client with more than 1 MiB unsent is dropped.
 */
const MAX_UNSENT_BYTES = 1 << 20;
const settings = readBenchServerSettings(process.env);
const boot = newBootTag();

interface LimitBuild {
  readonly id: string;
  status: 'running' | 'succeeded';
  events: number;
  /** Frames of this tick, not yet written. */
  pending: string;
  readonly flushed: Buffer[];
  /** The whole stream of a finished build, kept for replays. */
  history: Buffer | null;
  readonly clients: Set<http.ServerResponse>;
}

const builds = new Map<string, LimitBuild>();

function startBuild(projectPath: string): LimitBuild {
  const build: LimitBuild = { id: newBuildId(), status: 'running', events: 0, pending: '', flushed: [], history: null, clients: new Set() };
  builds.set(build.id, build);
  const feed = new LineFeed(projectDir(settings, projectPath), (lines, atMs) => {
    const isFirstOfTick = build.pending === '';
    for (const text of lines) {
      build.events += 1;
      build.pending += `id: ${eventId(boot, build.events)}\nevent: log\ndata: ${logEventJson({ buildId: build.id, text, atMs })}\n\n`;
    }
    if (isFirstOfTick) setImmediate(() => flush(build));
  });
  void feed.done.then(() => finish(build));
  return build;
}

function flush(build: LimitBuild): void {
  if (build.pending === '') return;
  const data = Buffer.from(build.pending);
  build.pending = '';
  build.flushed.push(data);
  for (const res of build.clients) {
    if (res.writableLength > MAX_UNSENT_BYTES) {
      build.clients.delete(res);
      res.destroy();
    } else res.write(data);
  }
}

function finish(build: LimitBuild): void {
  flush(build);
  build.status = 'succeeded';
  build.events += 1;
  const end = Buffer.from(`id: ${eventId(boot, build.events)}\nevent: end\ndata: ${JSON.stringify({ build: { id: build.id, status: build.status } })}\n\n`);
  build.history = Buffer.concat([...build.flushed, end]);
  build.flushed.length = 0;
  for (const res of build.clients) res.end(end);
  build.clients.clear();
}

function openStream(req: http.IncomingMessage, res: http.ServerResponse, build: LimitBuild): void {
  req.socket.setNoDelay(true);
  res.removeHeader('Transfer-Encoding');
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'close',
  });
  res.write(`retry: ${settings.retryMs}\n\n`);
  if (build.history) {
    res.end(build.history);
    return;
  }
  for (const data of build.flushed) res.write(data);
  build.clients.add(res);
  res.on('close', () => build.clients.delete(res));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://bench');
  if (req.method === 'POST' && url.pathname === '/api/project/build') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const build = startBuild((JSON.parse(body) as { projectPath: string }).projectPath);
      sendJson(res, 202, { build: { id: build.id, status: build.status, streamUrl: `/api/log/push?build=${build.id}` } });
    });
    return;
  }
  if (url.pathname === '/api/log/push') {
    const build = builds.get(url.searchParams.get('build') ?? '');
    if (build) openStream(req, res, build);
    else sendJson(res, 404, { error: { code: 'build_not_found' } });
    return;
  }
  const match = /^\/api\/builds\/([0-9a-z]+)$/.exec(url.pathname);
  const build = match ? builds.get(match[1]!) : undefined;
  if (build) sendJson(res, 200, { id: build.id, status: build.status });
  else if (url.pathname === '/healthz') sendJson(res, 200, { status: 'ok' });
  else sendJson(res, 404, { error: { code: 'not_found' } });
});
server.timeout = 0;
server.listen(settings.port, settings.host);
process.once('SIGTERM', () => process.exit(0));
