import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli-process.js';

/**
 * A scripted server for what the real one does only in rare cases (a `reset` on a build
 * stream, 204 before the end, a POST whose answer is lost, 200s that carry nothing): each
 * request goes to the next handler of the test's script, so the test says exactly which
 * bytes the CLI gets on each connection.
 */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const BUILD_ID = '0fakebuild1';
const STREAM_URL = `/api/log/push?build=${BUILD_ID}`;

function fakeBuild(status: string, exitCode: number | null): object {
  return {
    id: BUILD_ID,
    projectPath: '/projects/app',
    status,
    steps: [],
    createdAt: new Date(0).toISOString(),
    startedAt: null,
    finishedAt: null,
    exitCode,
    durationMs: null,
    worker: null,
    streamUrl: STREAM_URL,
    logUrl: `/api/builds/${BUILD_ID}/log`,
  };
}

/** The build's events in order: frames as the server writes them, with ids e1, e2, ... */
const EVENTS: Array<{ event: string; data: object }> = [
  { event: 'build', data: { build: fakeBuild('running', null) } },
  { event: 'log', data: logLine('stdout', 'one', true) },
  { event: 'log', data: logLine('stdout', 'par', false) },
  { event: 'log', data: logLine('stdout', 'tial', true) },
  { event: 'log', data: logLine('stderr', 'warning', true) },
  { event: 'log', data: logLine('stdout', 'three', true) },
  { event: 'build', data: { build: fakeBuild('succeeded', 0) } },
  { event: 'end', data: { build: fakeBuild('succeeded', 0) } },
];

function logLine(stream: string, text: string, eol: boolean): object {
  return { build: BUILD_ID, step: 'build', stream, time: '2026-01-02 03:04:05.678', ts: 0, text, eol };
}

/** Frames of events from..to (1-based, inclusive). */
function frames(from: number, to: number): string {
  return EVENTS.slice(from - 1, to)
    .map(({ event, data }, i) => `id: e${from + i}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    .join('');
}

function openStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'close' });
  res.write('retry: 20\n\n');
}

function json(res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Writes then drops the connection, as a network failure would. */
function writeAndDrop(res: http.ServerResponse, data: string): void {
  res.write(data, () => setTimeout(() => res.socket?.destroy(), 20));
}

describe('following a stream (against a scripted server)', () => {
  let server: http.Server;
  let url: string;
  let script: Handler[] = [];
  let seen: Array<{ method: string; url: string; lastEventId: string | undefined; idempotencyKey: string | undefined }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({
        method: req.method!,
        url: req.url!,
        lastEventId: req.headers['last-event-id'] as string | undefined,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      });
      const handler = script.shift();
      if (handler) handler(req, res);
      else json(res, 500, { error: { code: 'script_over', message: `No handler left for ${req.method} ${req.url}.` } });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    seen = [];
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const getBuild = (status: string, exitCode: number | null): Handler => (_req, res) => json(res, 200, fakeBuild(status, exitCode));

  it('prints nothing twice when a reset replays the whole build after a resume', async () => {
    script = [
      getBuild('running', null),
      (_req, res) => {
        openStream(res);
        writeAndDrop(res, frames(1, 3)); // "one\n" and the first half of "partial"
      },
      (_req, res) => {
        openStream(res);
        // The server could not use e3: it says reset, then replays from the first event.
        writeAndDrop(res, `id: r0\nevent: reset\ndata: {"reason":"history_truncated"}\n\n${frames(1, 5)}`);
      },
      (_req, res) => {
        openStream(res);
        res.end(frames(6, 8));
      },
    ];
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('one\npartial\nthree\n');
    expect(result.stderr.match(/^warning$/gm)).toHaveLength(1);
    expect(result.stderr).toContain('the server replays build');
    expect(seen.filter((r) => r.url === STREAM_URL).map((r) => r.lastEventId)).toEqual([undefined, 'e3', 'e5']);
  });

  it('resumes a replay that drops before it catches up, and still prints each line once', async () => {
    script = [
      getBuild('running', null),
      (_req, res) => {
        openStream(res);
        writeAndDrop(res, frames(1, 6));
      },
      (_req, res) => {
        openStream(res);
        writeAndDrop(res, `id: r0\nevent: reset\ndata: {"reason":"history_truncated"}\n\n${frames(1, 2)}`);
      },
      (_req, res) => {
        openStream(res);
        res.end(frames(3, 8));
      },
    ];
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('one\npartial\nthree\n');
    expect(seen.filter((r) => r.url === STREAM_URL).map((r) => r.lastEventId)).toEqual([undefined, 'e6', 'e2']);
  });

  it("stops at 204 and exits with the build's code from its record", async () => {
    script = [
      getBuild('running', null),
      (_req, res) => {
        openStream(res);
        writeAndDrop(res, frames(1, 2));
      },
      (_req, res) => {
        res.writeHead(204);
        res.end();
      },
      getBuild('failed', 7),
    ];
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url]);
    expect(result.stdout).toBe('one\n');
    expect(result.code).toBe(7);
  });

  it('waits for Retry-After on 503, then follows', async () => {
    script = [
      getBuild('running', null),
      (_req, res) => json(res, 503, { error: { code: 'too_many_clients', message: 'All 1 stream slots are in use.' } }, { 'Retry-After': '1' }),
      (_req, res) => {
        openStream(res);
        res.end(frames(1, 8));
      },
    ];
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url]);
    expect(result.stderr).toContain('the server is busy (503 too_many_clients); resuming in 1.0 s');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('one\npartial\nthree\n');
  });

  it('retries a POST whose answer was lost with the same Idempotency-Key, so only one build starts', async () => {
    script = [
      (req, res) => req.resume().on('end', () => res.socket?.destroy()), // the build starts, the answer is lost
      (req, res) => req.resume().on('end', () => json(res, 200, { msg: 'Build already started with this Idempotency-Key.', build: fakeBuild('running', null) })),
      (_req, res) => {
        openStream(res);
        res.end(frames(1, 8));
      },
    ];
    const result = await runCli(['build', 'app', '--server', url]);
    expect(result.code).toBe(0);
    const posts = seen.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.idempotencyKey).toMatch(/^buildlog-[0-9a-f-]{36}$/);
    expect(posts[1]!.idempotencyKey).toBe(posts[0]!.idempotencyKey);

    script = [(req, res) => req.resume().on('end', () => json(res, 202, { msg: 'Build started.', build: fakeBuild('running', null) })), (_req, res) => {
      openStream(res);
      res.end(frames(1, 8));
    }];
    seen = [];
    await runCli(['build', 'app', '--server', url]);
    expect(seen[0]!.idempotencyKey).not.toBe(posts[0]!.idempotencyKey); // a new key per invocation
  });

  it('gives up with 69 on a server that answers 200 and drops at once, again and again', async () => {
    script = Array.from({ length: 50 }, (): Handler => (_req, res) => {
      openStream(res);
      writeAndDrop(res, '');
    });
    script.unshift(getBuild('running', null));
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url, '--retry-for', '1']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('gave up after retrying for 1 s');
    script = [];
  });

  it('exits 76 on a malformed event', async () => {
    script = [
      getBuild('running', null),
      (_req, res) => {
        openStream(res);
        res.end('id: e1\nevent: log\ndata: {"text": 5}\n\n');
      },
    ];
    const result = await runCli(['logs', BUILD_ID, '--follow', '--server', url]);
    expect(result.code).toBe(76);
    expect(result.stderr).toContain('malformed log event');
  });
});
