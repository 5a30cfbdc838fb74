import http from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const LINES = 50000;
const WIDTH = 1000; // 50 MB of output

async function metric(url: string, name: string): Promise<number> {
  const text = (await request(`${url}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

/** Reads a stream to its end, checking on the fly (without keeping 50 MB) that lines 1..N come once, in order. */
function countingReader(url: string): Promise<{ lines: number; outOfOrder: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let carry = '';
    let expected = 1;
    let outOfOrder = 0;
    let ended = false;
    http
      .get(url, { agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const frames = (carry + chunk).split('\n\n');
          carry = frames.pop()!;
          for (const frame of frames) {
            if (frame.includes('\nevent: end\n')) ended = true;
            if (!frame.includes('\nevent: log\n') || !frame.includes('"stream":"stdout"')) continue;
            const text = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)).text as string;
            if (!text.startsWith('line ')) continue;
            if (Number(text.slice(5, 11)) === expected) expected += 1;
            else outOfOrder += 1;
          }
        });
        res.on('end', () => resolve({ lines: expected - 1, outOfOrder, ended }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('a client that stops reading', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: LINES, width: WIDTH, batch: 64 });
    // A long stall window, so the stalled client is still connected when memory is measured;
    // no history cache, so that what is measured is what the connection costs.
    server = await startTestServer({ PROJECTS_ROOT: projects.root }, { connectionLimits: { stallMs: 8000 }, historyCacheBytes: 0 });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('costs at most its 1 MiB of unsent data, never slows the two readers that get all 50 MB, and is dropped', async () => {
    const before = retainedBytes();
    const build = await startBuild(server.url, 'lines');
    const streamUrl = `${server.url}${build.streamUrl}`;

    // The stalled client: sends its request, then never reads a byte.
    const stalled = net.connect(server.port, '127.0.0.1');
    stalled.pause();
    stalled.on('error', () => {});
    stalled.write(`GET ${build.streamUrl} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);

    const readers = await Promise.all([countingReader(streamUrl), countingReader(streamUrl)]);
    await waitForEnd(server.url, build.id, 120000);
    for (const reader of readers) expect(reader).toEqual({ lines: LINES, outOfOrder: 0, ended: true });

    // Still connected, 50 MB behind: what does it cost? The history the server keeps anyway
    // (the last 10,000 events of the global stream, ~11 MB here) plus at most 1 MiB for it.
    expect(await metric(server.url, 'buildlog_sse_clients')).toBe(1);
    const grownMb = (retainedBytes() - before) / 2 ** 20;
    console.log(`retained memory grew ${grownMb.toFixed(1)} MB after a 50 MB build, with one stalled client still connected`);
    expect(grownMb).toBeLessThan(11 + 1 + 8);

    await waitFor(async () => (await metric(server.url, 'buildlog_sse_slow_clients_dropped_total')) === 1, 'the stalled client to be dropped', 20000);
    expect(await metric(server.url, 'buildlog_sse_clients')).toBe(0);
    stalled.destroy();
  }, 180000);
});

/** Heap plus Buffer memory after a full garbage collection: what the process really holds on to. */
function retainedBytes(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
