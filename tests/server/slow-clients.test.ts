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

/** Line i of the `lines` fixture, as it prints it (without its newline). */
function fixtureLine(i: number, width: number): string {
  const filler = 'abcdefghij'.repeat(Math.ceil(width / 10)).slice(0, Math.max(0, width - 12));
  return `line ${String(i).padStart(6, '0')} ${filler}`;
}

interface LinesProgress {
  /** Fixture lines received whole and exact, in order. */
  lines: number;
  /** Lines that were not the next expected one, byte for byte. */
  wrong: number;
  ended: boolean;
  receivedBytes: number;
  readonly done: Promise<void>;
}

/**
 * Reads a build's stream and checks on the fly that its stdout holds the fixture's lines
 * 1..N exactly, each rebuilt from its pieces (a line over 64 KiB comes as several events),
 * keeping one line at a time. With bytesPerSecond, it reads slowly but steadily.
 */
function exactLinesReader(url: string, width: number, bytesPerSecond = 0): LinesProgress {
  let resolveDone!: () => void;
  const progress: LinesProgress = { lines: 0, wrong: 0, ended: false, receivedBytes: 0, done: new Promise<void>((resolve) => (resolveDone = resolve)) };
  let carry = '';
  let line = '';
  http
    .get(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        progress.receivedBytes += Buffer.byteLength(chunk);
        const frames = (carry + chunk).split('\n\n');
        carry = frames.pop()!;
        for (const frame of frames) {
          if (frame.includes('\nevent: end\n')) progress.ended = true;
          if (!frame.includes('\nevent: log\n') || !frame.includes('"stream":"stdout"')) continue;
          const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as { text: string; eol: boolean };
          line += data.text;
          if (!data.eol) continue;
          if (line.startsWith('line ')) {
            if (line === fixtureLine(progress.lines + 1, width)) progress.lines += 1;
            else progress.wrong += 1;
          }
          line = '';
        }
        if (bytesPerSecond > 0) {
          res.pause();
          setTimeout(() => res.resume(), (Buffer.byteLength(chunk) / bytesPerSecond) * 1000);
        }
      });
      res.on('close', () => resolveDone());
    })
    .on('error', () => resolveDone());
  return progress;
}

describe('a client that stops reading', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: LINES, width: WIDTH, batch: 64 });
    // A long stall window, so the stalled client is still connected when memory is measured
    // (the two readers may take a while on a busy machine);
    // no history cache, so that what is measured is what the connection costs.
    server = await startTestServer({ PROJECTS_ROOT: projects.root }, { connectionLimits: { stallMs: 20000 }, historyCacheBytes: 0 });
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

    // Still connected, 50 MB behind: what does it cost? At most 1 MiB for it, and the global
    // stream's last 10,000 events (~11 MB here) are no copy: they are read from the build's history.
    expect(await metric(server.url, 'buildlog_sse_clients')).toBe(1);
    const grownMb = (retainedBytes() - before) / 2 ** 20;
    console.log(`retained memory grew ${grownMb.toFixed(1)} MB after a 50 MB build, with one stalled client still connected`);
    expect(grownMb).toBeLessThan(1 + 11); // a copy of the global history alone would be 11 MB more

    await waitFor(async () => (await metric(server.url, 'buildlog_sse_slow_clients_dropped_total')) === 1, 'the stalled client to be dropped', 40000);
    expect(await metric(server.url, 'buildlog_sse_clients')).toBe(0);
    stalled.destroy();
  }, 180000);
});

describe('a big build of long lines', () => {
  const COUNT = 200;
  const WIDTH = 200000; // 40 MB, each line sent as four events of at most 64 KiB
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: COUNT, width: WIDTH, batch: 5 });
    // No history cache, so that what is measured is what the server keeps by itself.
    server = await startTestServer({ PROJECTS_ROOT: projects.root }, { historyCacheBytes: 0 });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('reaches live and replaying readers exactly, and the server keeps no copy of it in memory afterwards', async () => {
    const before = retainedBytes();
    const build = await startBuild(server.url, 'lines');
    const streamUrl = `${server.url}${build.streamUrl}`;
    const live = [exactLinesReader(streamUrl, WIDTH), exactLinesReader(streamUrl, WIDTH)];
    await waitForEnd(server.url, build.id, 120000);
    const replays = [exactLinesReader(streamUrl, WIDTH), exactLinesReader(streamUrl, WIDTH)];
    await Promise.all([...live, ...replays].map((r) => r.done));
    for (const reader of [...live, ...replays]) expect({ lines: reader.lines, wrong: reader.wrong, ended: reader.ended }).toEqual({ lines: COUNT, wrong: 0, ended: true });

    // The global stream keeps these 800 events (all of them: under 10,000) for resuming, but
    // reads them from the build's history: it holds no 40 MB copy of its own.
    await waitFor(async () => (await metric(server.url, 'buildlog_sse_clients')) === 0, 'every stream to close');
    const grownMb = (retainedBytes() - before) / 2 ** 20;
    console.log(`retained memory grew ${grownMb.toFixed(1)} MB after a 40 MB build of 200 KB lines`);
    expect(grownMb).toBeLessThan(8);
  }, 180000);
});

describe('a client that reads slowly but steadily', () => {
  const COUNT = 6000;
  const WIDTH = 1000; // 6 MB in four bursts of 1.5 MB: more than the kernel's socket buffers hold
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: COUNT, width: WIDTH, batch: 1500, delayMs: 300 });
    // A stall window of a few seconds: the kernel's socket buffers take the server's bytes in
    // bursts of a megabyte or so as the reader frees them, so a reader of 1 MiB/s shows
    // progress at least every second or two; it must never be taken for one that stopped.
    server = await startTestServer({ PROJECTS_ROOT: projects.root }, { connectionLimits: { stallMs: 3000 } });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('is never dropped, however far behind a bursty build it falls, and never holds the build back', async () => {
    const build = await startBuild(server.url, 'lines');
    const slow = exactLinesReader(`${server.url}${build.streamUrl}`, WIDTH, 1 << 20); // 1 MiB/s
    await waitForEnd(server.url, build.id, 120000);
    // The build is over while the reader is still megabytes behind: it did not wait for it.
    const behindAtEnd = COUNT * WIDTH - slow.receivedBytes;
    expect(behindAtEnd).toBeGreaterThan(2 << 20);
    await slow.done;
    expect({ lines: slow.lines, wrong: slow.wrong, ended: slow.ended }).toEqual({ lines: COUNT, wrong: 0, ended: true });
    expect(await metric(server.url, 'buildlog_sse_slow_clients_dropped_total')).toBe(0);
  }, 120000);
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
