import crypto from 'node:crypto';
import net from 'node:net';
import { OutputClient } from '../../bench/load/output-client.js';
import type { StreamReport } from '../../bench/load/reader-protocol.js';
import { cutEvery } from '../helpers/bench-stream.js';

const frame = (id: string, event: string, data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const log = (n: number, step: string, stream: string, text: string, eol: boolean) => frame(`b-${n}-${n}`, 'log', { build: 'x', step, stream, text, eol });

/** A server that answers one connection with `body` after SSE headers, cut into `step`-byte writes. */
async function serve(body: string, step: number): Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 3000\n\n${body}`);
      for (const piece of cutEvery(response, step)) socket.write(piece);
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function readAll(body: string, step: number, stopAtFirstLog = false): Promise<StreamReport> {
  const server = await serve(body, step);
  try {
    const client = new OutputClient({ port: server.port, path: '/api/log/push?build=x', lastEventId: null, stopAtFirstLog, output: { step: 'build', stream: 'stderr' } });
    while (!client.isClosed) await new Promise((resolve) => setTimeout(resolve, 5));
    return client.report();
  } finally {
    server.close();
  }
}

describe('the stream reader of rows e and f', () => {
  const long = 'é'.repeat(40000); // multi-byte characters, cut anywhere by the writes
  const body =
    frame('b-0-0', 'reset', { reason: 'history_truncated' }) +
    frame('b-1-1', 'build', { build: {} }) +
    log(2, 'build', 'stdout', 'yarn run v1.22.22', true) +
    log(3, 'build', 'stderr', 'first', true) +
    log(4, 'build', 'stderr', long, false) +
    log(5, 'build', 'stderr', long, true) +
    log(6, 'install', 'stderr', 'not this step', true) +
    frame('b-7-7', 'end', { build: {} });
  const expected = `first\n${long}${long}\n`;

  it.each([1, 7, 4096, 1 << 20])('hashes the filtered output exactly, whatever the reads (%i bytes each)', async (step) => {
    const report = await readAll(body, step);
    expect(report).toMatchObject({
      status: 200,
      frames: 8,
      logEvents: 5,
      orderErrors: 0,
      sawEnd: true,
      outputBytes: Buffer.byteLength(expected),
      outputSha256: crypto.createHash('sha256').update(expected).digest('hex'),
      firstFrames: [
        { event: 'reset', id: 'b-0-0' },
        { event: 'build', id: 'b-1-1' },
        { event: 'log', id: 'b-2-2' },
      ],
    });
    expect(report.firstLogMs).toEqual(expect.any(Number));
  });

  it('counts a frame whose position does not follow the one before', async () => {
    const report = await readAll(log(10, 'build', 'stderr', 'a', true) + log(12, 'build', 'stderr', 'b', true) + log(13, 'build', 'stderr', 'c', true), 5);
    expect(report.orderErrors).toBe(1);
  });

  it('closes the stream at its first log event when told', async () => {
    const report = await readAll(body, 4096, true);
    expect(report).toMatchObject({ frames: 3, logEvents: 1, sawEnd: false, outputBytes: 0 });
  });
});
