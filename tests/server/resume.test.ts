import { EventSource } from 'eventsource';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { startBuild, waitForEnd } from '../helpers/http.js';
import { SseReader, type SseEvent } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LINES = 20000;

/** The numbers of the `line NNNNNN` stdout lines among some events, in order. */
function lineNumbers(events: readonly SseEvent[]): number[] {
  return events
    .filter((e) => e.event === 'log' && e.json.stream === 'stdout' && e.json.text.startsWith('line '))
    .map((e) => Number(e.json.text.slice(5, 11)));
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('resuming a stream', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    // Slow enough that the resume happens while the build still runs.
    projects.configure('lines', { count: LINES, batch: 100, delayMs: 4 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '50' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  /** Reads a running build's stream until `atLeast` lines arrived, then hangs up. */
  async function readPart(url: string, atLeast: number, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader(url, headers);
    await reader.waitFor((r) => lineNumbers(r.events).length >= atLeast, `${atLeast} lines`);
    reader.close();
    return reader;
  }

  async function readToEnd(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader(url, headers);
    await reader.closed;
    return reader;
  }

  it('resumes a ?build= stream in the middle of a 20,000-line build with Last-Event-ID: no gap, no duplicate', async () => {
    const build = await startBuild(server.url, 'lines');
    const url = `${server.url}${build.streamUrl}`;
    const first = await readPart(url, 8000);
    const second = await readToEnd(url, { 'Last-Event-ID': first.lastEventId! });
    const whole = await readToEnd(url); // after the end: the whole build replayed from disk

    expect(second.named('reset')).toEqual([]);
    const joined = [...first.events, ...second.events];
    expect(joined.map((e) => e.id)).toEqual(whole.events.map((e) => e.id));
    expect(lineNumbers(joined)).toEqual(oneToN(LINES));
    expect(second.events.at(-1)!.event).toBe('end');
  }, 60000);

  it('resumes with the lastEventId query parameter too, and the header wins over it', async () => {
    const build = await startBuild(server.url, 'lines');
    const url = `${server.url}${build.streamUrl}`;
    const first = await readPart(url, 5000);
    const byQuery = await readToEnd(`${url}&lastEventId=${encodeURIComponent(first.lastEventId!)}`);
    expect(byQuery.named('reset')).toEqual([]);
    expect(lineNumbers([...first.events, ...byQuery.events])).toEqual(oneToN(LINES));

    const byHeader = await readToEnd(`${url}&lastEventId=garbage`, { 'Last-Event-ID': first.lastEventId! });
    expect(byHeader.named('reset')).toEqual([]);
    expect(byHeader.events.map((e) => e.id)).toEqual(byQuery.events.map((e) => e.id));
  }, 60000);

  it('lets a real EventSource reconnect by itself after a dropped connection and miss nothing', async () => {
    const build = await startBuild(server.url, 'lines');
    const requests: Array<string | null> = [];
    let cutsLeft = 2;
    const source = new EventSource(`${server.url}${build.streamUrl}`, {
      // The transport drops the first two connections part-way, as a flaky network would.
      fetch: async (input, init) => {
        requests.push(new Headers(init?.headers).get('last-event-id'));
        const response = await fetch(input, init);
        if (cutsLeft === 0 || !response.body) return response;
        cutsLeft -= 1;
        let bytes = 0;
        const cut = response.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              bytes += chunk.length;
              controller.enqueue(chunk);
              if (bytes > 300000) controller.error(new Error('connection dropped'));
            },
          }),
        );
        return new Response(cut, { status: response.status, headers: response.headers });
      },
    });
    const events: SseEvent[] = [];
    source.addEventListener('log', (e) => events.push({ id: e.lastEventId, event: 'log', data: e.data, json: JSON.parse(e.data), receivedAt: Date.now() }));
    await new Promise<void>((resolve) => source.addEventListener('end', () => resolve()));
    source.close();

    expect(requests.length).toBe(3);
    expect(requests[0]).toBeNull();
    expect(requests[1]).toMatch(/^[0-9a-z]+-\d+-\d+$/);
    expect(lineNumbers(events)).toEqual(oneToN(LINES));
  }, 60000);

  it('resumes the global stream with every later event exactly once', async () => {
    const witness = new SseReader(`${server.url}/api/log/push`);
    const first = new SseReader(`${server.url}/api/log/push`);
    await Promise.all([witness.connected, first.connected]);
    const build = await startBuild(server.url, 'lines');
    await first.waitFor((r) => lineNumbers(r.events).length >= 3000, '3000 lines');
    first.close();
    const second = new SseReader(`${server.url}/api/log/push`, { 'Last-Event-ID': first.lastEventId! });
    await waitForEnd(server.url, build.id, 60000);
    const isFinal = (e: SseEvent) => e.event === 'build' && e.json.build.id === build.id && e.json.build.status === 'succeeded';
    await second.waitFor((r) => r.events.some(isFinal), 'the final build event');
    await witness.waitFor((r) => r.events.some(isFinal), 'the final build event');
    second.close();
    witness.close();

    const ofBuild = (events: SseEvent[]) => events.filter((e) => e.json?.build === build.id || e.json?.build?.id === build.id);
    const joined = ofBuild([...first.events, ...second.events]);
    expect(joined.map((e) => e.id)).toEqual(ofBuild(witness.events).map((e) => e.id));
    expect(lineNumbers(joined)).toEqual(oneToN(LINES));
  }, 60000);

  it('replays a finished build whole, then its final build event and end, then closes', async () => {
    const build = await startBuild(server.url, 'failing');
    await waitForEnd(server.url, build.id);
    const replay = await readToEnd(`${server.url}${build.streamUrl}`);
    expect(replay.status).toBe(200);
    expect(replay.events.slice(-2).map((e) => e.event)).toEqual(['build', 'end']);
    expect(replay.events.at(-1)!.json.build).toMatchObject({ id: build.id, status: 'failed', exitCode: 3 });
    expect(replay.named('log')[0]!.json.text).toBe('$ yarn install');
    expect(replay.closedBy).toBe('server');
  });

  it('answers 204 to a reconnect with the id of the build\'s end, so EventSource stops', async () => {
    const build = await startBuild(server.url, 'failing');
    const stream = await readToEnd(`${server.url}${build.streamUrl}`);
    const endId = stream.named('end')[0]!.id!;
    const again = await fetch(`${server.url}${build.streamUrl}`, { headers: { 'Last-Event-ID': endId } });
    expect(again.status).toBe(204);

    // A real EventSource: it reconnects after the server closes, gets 204, and stays closed.
    const source = new EventSource(`${server.url}${build.streamUrl}`);
    let ends = 0;
    source.addEventListener('end', () => {
      ends += 1;
    });
    await new Promise<void>((resolve) => source.addEventListener('error', () => source.readyState === EventSource.CLOSED && resolve()));
    expect(ends).toBe(1);
    expect(source.readyState).toBe(EventSource.CLOSED);
  });

  it('sends reset, then the whole build, for a ?build= id it cannot read', async () => {
    const build = await startBuild(server.url, 'failing');
    await waitForEnd(server.url, build.id);
    const whole = await readToEnd(`${server.url}${build.streamUrl}`);
    for (const bad of ['garbage', `${whole.events[0]!.id!.split('-')[0]}-999999-999999`]) {
      const reset = await readToEnd(`${server.url}${build.streamUrl}`, { 'Last-Event-ID': bad });
      expect(reset.events[0]).toMatchObject({ event: 'reset', json: { reason: 'history_truncated' } });
      expect(reset.events.slice(1).map((e) => e.id)).toEqual(whole.events.map((e) => e.id));
    }
  });
});

describe('the global history limit', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: 500, batch: 50 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root }, { globalHistoryEvents: 100 });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('sends reset, then the kept events, to a client whose id is older than the history', async () => {
    const early = new SseReader(`${server.url}/api/log/push`);
    await early.connected;
    const build = await startBuild(server.url, 'lines');
    await waitForEnd(server.url, build.id);
    await early.waitFor((r) => r.events.some((e) => e.event === 'build' && e.json.build.status === 'succeeded'), 'the end of the build');
    early.close();

    const late = new SseReader(`${server.url}/api/log/push`, { 'Last-Event-ID': early.events[0]!.id! });
    await late.waitFor((r) => r.events.length >= 101, 'reset and the kept events');
    late.close();
    expect(late.events[0]).toMatchObject({ event: 'reset', json: { reason: 'history_truncated' } });
    expect(late.events.slice(1).map((e) => e.id)).toEqual(early.events.slice(-100).map((e) => e.id));
  });

  it('sends reset for an id it cannot read at all', async () => {
    const reader = new SseReader(`${server.url}/api/log/push?lastEventId=not-an-id`);
    await reader.waitFor((r) => r.events.length >= 1, 'reset');
    reader.close();
    expect(reader.events[0]!.event).toBe('reset');
  });

  it('resumes without reset from the reset event\'s own id', async () => {
    const reader = new SseReader(`${server.url}/api/log/push?lastEventId=not-an-id`);
    await reader.waitFor((r) => r.events.length >= 101, 'the kept events');
    reader.close();
    const again = new SseReader(`${server.url}/api/log/push`, { 'Last-Event-ID': reader.events[0]!.id! });
    await again.waitFor((r) => r.events.length >= 100, 'the kept events');
    again.close();
    expect(again.named('reset')).toEqual([]);
    expect(again.events.map((e) => e.id)).toEqual(reader.events.slice(1).map((e) => e.id));
  });
});
