import http from 'node:http';
import { createRequire } from 'node:module';
import { EventSource } from 'eventsource';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { expectToContainExactly, rebuildOutput, SseReader, type SseEvent } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const require = createRequire(import.meta.url);
const tricky = require('../fixtures/projects/tricky/payload.cjs') as { PAYLOAD: Buffer; TAIL: string; STDERR_LINE: string };
const EXPECTED = new TextDecoder().decode(tricky.PAYLOAD);
const ID_PATTERN = /^[0-9A-Za-z_-]{1,64}$/;

/** A real EventSource client (the `eventsource` package) collecting every event. */
function eventSource(url: string): { source: EventSource; events: SseEvent[]; opened: Promise<void> } {
  const source = new EventSource(url);
  const events: SseEvent[] = [];
  for (const name of ['log', 'build', 'end', 'reset']) {
    source.addEventListener(name, (e) => {
      events.push({ id: e.lastEventId, event: name, data: e.data, json: JSON.parse(e.data), receivedAt: Date.now() });
    });
  }
  const opened = new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));
  return { source, events, opened };
}

describe('the output of a build over SSE', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let build: { id: string; streamUrl: string; logUrl: string };
  let buildStream: SseReader;
  let globals: ReturnType<typeof eventSource>[];

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root });
    globals = [eventSource(`${server.url}/api/log/push`), eventSource(`${server.url}/api/log/push`)];
    await Promise.all(globals.map((g) => g.opened));
    build = await startBuild(server.url, 'tricky');
    buildStream = new SseReader(`${server.url}${build.streamUrl}`, { 'Accept-Encoding': 'gzip, br' });
    await buildStream.closed;
    await waitForEnd(server.url, build.id);
    for (const g of globals) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no final build event on the global stream')), 5000);
        const check = () => {
          if (g.events.some((e) => e.event === 'build' && e.json.build.id === build.id && e.json.build.status === 'succeeded')) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    }
  }, 60000);

  afterAll(async () => {
    for (const g of globals ?? []) g.source.close();
    await server?.stop();
    projects?.remove();
  });

  it('answers with the SSE headers, uncompressed, then the retry delay before any event', () => {
    expect(buildStream.status).toBe(200);
    expect(buildStream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(buildStream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(buildStream.headers['x-accel-buffering']).toBe('no');
    expect(buildStream.headers['content-encoding']).toBeUndefined();
    expect(buildStream.retries).toEqual([3000]);
  });

  // yarn wraps the script's output in lines of its own, so the payload sits inside stdout.
  it('rebuilds the exact stdout bytes on the build stream (decoded as UTF-8)', () => {
    expectToContainExactly(rebuildOutput(buildStream.events, build.id), EXPECTED);
  });

  it('rebuilds the exact stdout bytes for every EventSource client of the global stream', () => {
    for (const g of globals) expectToContainExactly(rebuildOutput(g.events, build.id), EXPECTED);
    expect(rebuildOutput(globals[0]!.events, build.id)).toBe(rebuildOutput(buildStream.events, build.id));
  });

  it('keeps stderr apart from stdout', () => {
    expect(rebuildOutput(buildStream.events, build.id, 'stderr')).toBe(tricky.STDERR_LINE);
    expect(rebuildOutput(buildStream.events, build.id)).not.toContain(tricky.STDERR_LINE);
  });

  it('lets no output forge an event: names, ids and one JSON object per event', () => {
    for (const events of [buildStream.events, ...globals.map((g) => g.events)]) {
      for (const event of events) {
        expect(['log', 'build', 'end']).toContain(event.event);
        expect(event.id).toMatch(ID_PATTERN);
        expect(typeof event.json).toBe('object');
      }
    }
    expect(buildStream.named('end')).toHaveLength(1);
    expect(globals.every((g) => g.events.every((e) => e.event !== 'end'))).toBe(true);
  });

  it('gives every log event the contract fields, with time being ts in local time', () => {
    for (const { json } of buildStream.named('log')) {
      expect(Object.keys(json)).toEqual(['build', 'step', 'stream', 'time', 'ts', 'text', 'eol']);
      expect(json.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
      const [date, clock] = json.time.split(' ');
      const [y, mo, d] = date.split('-').map(Number);
      const [h, mi, s] = clock.split(':').map(Number);
      expect(new Date(y, mo - 1, d, h, mi, Math.floor(s), Math.round((s % 1) * 1000)).getTime()).toBe(json.ts);
    }
  });

  it('sends the 200,000-byte line as several pieces of at most 64 KiB, all but the last eol:false', () => {
    const logs = buildStream.named('log').map((e) => e.json);
    expect(Math.max(...logs.map((l) => Buffer.byteLength(l.text)))).toBeLessThanOrEqual(65536);
    const first = logs.findIndex((l) => l.text.startsWith('ahov29gnu'));
    const last = logs.findIndex((l, i) => i >= first && l.eol);
    expect(last - first).toBeGreaterThanOrEqual(3);
    expect(logs.slice(first, last).every((l) => l.eol === false)).toBe(true);
  });

  it('sends the partial last line on its own, long before the build exits', () => {
    const logs = buildStream.named('log');
    const tail = logs.findIndex((e) => e.json.stream === 'stdout' && e.json.text.endsWith(tricky.TAIL.slice(5)));
    expect(tail).toBeGreaterThan(-1);
    expect(logs[tail]!.json.eol).toBe(false);
    const verdict = logs.at(-1)!;
    expect(verdict.receivedAt - logs[tail]!.receivedAt).toBeGreaterThanOrEqual(500); // the build sleeps 800 ms after it
  });

  it('frames the steps with system lines and ends with the verdict, a final build event and end', () => {
    const system = buildStream.named('log').filter((e) => e.json.stream === 'system').map((e) => e.json.text);
    expect(system[0]).toBe('$ yarn install');
    expect(system).toContain('$ yarn build');
    expect(system.at(-1)).toMatch(/^Build succeeded in \d+\.\d s \(exit code 0\)$/);
    const last = buildStream.events.slice(-2);
    expect(last.map((e) => e.event)).toEqual(['build', 'end']);
    expect(last[1]!.json.build).toMatchObject({ id: build.id, status: 'succeeded', exitCode: 0 });
    expect(buildStream.closedBy).toBe('server');
  });

  it('sends a build event for each status change', () => {
    const changes = buildStream.named('build').map((e) => [e.json.build.status, ...e.json.build.steps.map((s: { status: string }) => s.status)].join(' '));
    expect(changes).toEqual([
      'queued pending pending',
      'running pending pending',
      'running running pending',
      'running succeeded pending',
      'running succeeded running',
      'running succeeded succeeded',
      'succeeded succeeded succeeded',
    ]);
  });

  it('serves the log as stamped text, and ?raw=1 as the exact output', async () => {
    const text = await request(`${server.url}${build.logUrl}`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = text.text.split('\n').slice(0, -1);
    expect(lines.every((line) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]/.test(line))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^\[[^\]]+\] plain line one$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[[^\]]+\] \[stderr\] a line on stderr$/));
    expect(lines.at(-1)).toMatch(/^\[[^\]]+\] \[system\] Build succeeded/);

    const raw = await request(`${server.url}${build.logUrl}?raw=1`);
    expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expectToContainExactly(raw.text, EXPECTED);
    expect(raw.text).toContain(tricky.STDERR_LINE);
    expect(raw.text).not.toContain('$ yarn build');
  });
});

/**
 * Reads a stream to its end over node:http and checks every block between blank lines
 * strictly (a heartbeat, the retry, or one whole event of our shape with one JSON object),
 * without keeping the stream: counts what it saw and rebuilds the stdout lines' numbers.
 */
function strictReader(url: string): Promise<{ malformed: string[]; lines: number; outOfOrder: number; pings: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const result = { malformed: [] as string[], lines: 0, outOfOrder: 0, pings: 0, ended: false };
    let carry = '';
    http
      .get(url, { agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const blocks = (carry + chunk).split('\n\n');
          carry = blocks.pop()!;
          for (const block of blocks) {
            if (/^: ping \S+$/.test(block)) result.pings += 1;
            else if (/^retry: \d+$/.test(block)) continue;
            else {
              const match = /^id: ([0-9A-Za-z_-]{1,64})\nevent: (log|build|end)\ndata: (\{.*\})$/.exec(block);
              let data: { stream?: string; text?: string } | undefined;
              try {
                data = match ? JSON.parse(match[3]!) : undefined;
              } catch {
                data = undefined;
              }
              if (!data) {
                if (result.malformed.length < 5) result.malformed.push(block.slice(0, 120));
                continue;
              }
              if (match![2] === 'end') result.ended = true;
              if (match![2] !== 'log' || data.stream !== 'stdout' || !data.text?.startsWith('line ')) continue;
              if (Number(data.text.slice(5, 11)) === result.lines + 1) result.lines += 1;
              else result.outOfOrder += 1;
            }
          }
        });
        res.on('end', () => {
          if (carry !== '') result.malformed.push(`unterminated: ${carry.slice(0, 120)}`);
          resolve(result);
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('replaying a big finished build after a restart, with a heartbeat every 10 ms', () => {
  const LINES = 20000; // ~20 MB of history: 20 chunks, most read from disk after the restart
  let projects: ProjectsRoot;
  let server: TestServer | undefined;

  beforeAll(() => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: LINES, width: 1000, batch: 50 });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('never cuts a frame with a heartbeat, for ten readers replaying it at once', async () => {
    const first = await startTestServer({ PROJECTS_ROOT: projects.root });
    const build = await startBuild(first.url, 'lines');
    await waitForEnd(first.url, build.id, 60000);
    await first.stop();

    server = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: first.dataDir, HEARTBEAT_MS: '10' });
    // An idle stream shows that the heartbeat beats all through the replays.
    const idle = new SseReader(`${server.url}/api/log/push`);
    await idle.connected;
    const results = await Promise.all(Array.from({ length: 10 }, () => strictReader(`${server!.url}${build.streamUrl}`)));
    const beats = idle.comments.length;
    idle.close();
    for (const result of results) {
      expect(result.malformed).toEqual([]);
      expect({ lines: result.lines, outOfOrder: result.outOfOrder, ended: result.ended }).toEqual({ lines: LINES, outOfOrder: 0, ended: true });
    }
    expect(beats).toBeGreaterThan(10);
  }, 120000);
});
