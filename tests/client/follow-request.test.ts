import { createBuildLogClient } from '../../src/client/build-log-client.js';

/** A stream request as the client sent it. */
interface SentRequest {
  readonly url: string;
  readonly lastEventIdHeader: string | undefined;
}

const BUILD = { id: 'b1', projectPath: '/p/demo', status: 'succeeded', steps: [] };

/**
 * A server at the edge, in memory: each stream connection gets the next of `streams` (a body
 * that ends, which the client takes for a dropped connection; `open` one that stays open
 * until the request is aborted) and 204 once they are used up; GET /api/builds/:id answers BUILD.
 */
function fakeServer(streams: Array<string | 'open'>): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input);
    if (!url.includes('/api/log/push')) return Response.json(BUILD);
    sent.push({ url, lastEventIdHeader: (init?.headers as Record<string, string> | undefined)?.['Last-Event-ID'] });
    const body = streams.shift();
    if (body === undefined) return new Response(null, { status: 204 });
    const headers = { 'Content-Type': 'text/event-stream' };
    if (body !== 'open') return new Response(body, { status: 200, headers });
    const signal = init!.signal!;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('retry: 10\n\n'));
        signal.addEventListener('abort', () => controller.error(signal.reason));
      },
    });
    return new Response(stream, { status: 200, headers });
  };
  return { fetch: fetchFn, sent };
}

const logFrame = (id: string, text: string) =>
  `id: ${id}\nevent: log\ndata: ${JSON.stringify({ build: 'b1', step: 'build', stream: 'stdout', time: '2026-01-02 03:04:05.678', ts: 0, text, eol: true })}\n\n`;

describe('BuildLogClient.follow requests', () => {
  it('follows /api/log/push for every build and ?build=<id> for one', async () => {
    const { fetch, sent } = fakeServer(['open']);
    const client = createBuildLogClient({ server: 'http://builds.test', fetch });
    const controller = new AbortController();
    let isOpen = false;
    const global = client.follow({ signal: controller.signal, onEvent: () => {}, onStatus: (status) => void (isOpen ||= status.state === 'open') });
    global.catch(() => {});
    while (!isOpen) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(global).rejects.toMatchObject({ name: 'AbortError' });
    await client.follow({ build: '0lx2k3abcd12', onEvent: () => {} });

    expect(sent.map((request) => request.url)).toEqual(['http://builds.test/api/log/push', 'http://builds.test/api/log/push?build=0lx2k3abcd12']);
  });

  it('encodes the build id, so no id can add a query parameter of its own', async () => {
    const { fetch, sent } = fakeServer([]);
    await createBuildLogClient({ server: 'http://builds.test', fetch }).follow({ build: 'a&lastEventId=9', onEvent: () => {} });
    expect(sent[0]!.url).toBe('http://builds.test/api/log/push?build=a%26lastEventId%3D9');
  });

  it('names the id it resumes from in the query, and where it is now in Last-Event-ID on every connection', async () => {
    const { fetch, sent } = fakeServer([`retry: 10\n\n${logFrame('k1-41-3', 'three')}`]);
    const texts: string[] = [];
    const client = createBuildLogClient({ server: 'http://builds.test', fetch });
    const result = await client.follow({ build: 'b1', lastEventId: 'k1-40-2', onEvent: (event) => void (event.name === 'log' && texts.push(event.data.text)) });

    expect(sent).toEqual([
      { url: 'http://builds.test/api/log/push?build=b1&lastEventId=k1-40-2', lastEventIdHeader: 'k1-40-2' },
      { url: 'http://builds.test/api/log/push?build=b1&lastEventId=k1-40-2', lastEventIdHeader: 'k1-41-3' },
    ]);
    expect(texts).toEqual(['three']);
    expect(result).toMatchObject({ outcome: 'no_content', lastEventId: 'k1-41-3' });
  });

  it('counts the events up to the id it resumes from as handed on, so a reset replays none of them', async () => {
    const reset = 'id: k2-1-0\nevent: reset\ndata: {"reason":"unknown_id"}\n\n';
    const { fetch } = fakeServer([`retry: 10\n\n${reset}${logFrame('k2-1-1', 'one')}${logFrame('k2-2-2', 'two')}${logFrame('k2-3-3', 'three')}`]);
    const texts: string[] = [];
    const statuses: string[] = [];
    await createBuildLogClient({ server: 'http://builds.test', fetch }).follow({
      build: 'b1',
      lastEventId: 'k1-40-2',
      onEvent: (event) => void (event.name === 'log' && texts.push(event.data.text)),
      onStatus: (status) => void statuses.push(status.state),
    });
    expect(statuses).toContain('reset');
    expect(texts).toEqual(['three']);
  });
});
