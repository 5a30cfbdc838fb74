import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { StreamStart } from '../../src/events/event-log.js';
import type { Feed, FeedSlice } from '../../src/events/feed.js';
import { encodeComment, encodeFrame } from '../../src/sse/encode-frame.js';
import { SseConnection } from '../../src/sse/sse-connection.js';

/** A socket that the kernel empties at once: writableLength is always 0, as on a fast link. */
class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  writableLength = 0;
  writableNeedDrain = false;
  write(data: Buffer): boolean {
    this.written.push(Buffer.from(data));
    return true;
  }
  get text(): string {
    return Buffer.concat(this.written).toString();
  }
}

class FakeResponse extends EventEmitter {
  constructor(readonly socket: FakeSocket) {
    super();
  }
  end(): void {}
  destroy(): void {}
}

/** A finished feed whose reads wait until the test lets them go, as a read from disk does. */
class ControlledFeed implements Feed {
  readonly key = 'b1';
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly bytes: Buffer) {}
  head(): number {
    return this.bytes.length;
  }
  isComplete(): boolean {
    return true;
  }
  bytesAfter(from: number): number {
    return this.bytes.length - from;
  }
  readSlice(from: number, maxBytes: number): Promise<FeedSlice | null> {
    return new Promise((resolve) =>
      this.waiting.push(() => {
        const data = this.bytes.subarray(from, from + maxBytes);
        resolve({ data, next: from + data.length });
      }),
    );
  }
  /** Lets the oldest waiting read complete; false when none is waiting. */
  releaseRead(): boolean {
    const next = this.waiting.shift();
    next?.();
    return next !== undefined;
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Splits a stream's bytes at blank lines; each block must be one whole thing the server writes. */
function blocks(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text.slice(0, -2).split('\n\n');
}

describe('SseConnection', () => {
  const frames = Array.from({ length: 40 }, (_, i) => encodeFrame({ id: `x-${i + 1}-${i + 1}`, event: 'log', data: JSON.stringify({ text: `line ${i + 1}` }) }));
  const ping = Buffer.from(encodeComment('ping now'));

  it('never writes a heartbeat between the bytes of one frame while it catches up in slices that end mid-frame', async () => {
    const socket = new FakeSocket();
    const feed = new ControlledFeed(Buffer.from(frames.join('')));
    const start: StreamStart = { feed, from: 0, preamble: null, release: () => {} };
    // 37-byte reads: nearly every slice ends inside a frame.
    const connection = new SseConnection(new FakeResponse(socket) as unknown as ServerResponse, start, { maxUnsentBytes: 1 << 20, readChunkBytes: 37, stallMs: 5000 });
    connection.open(1000);
    // A heartbeat comes while every read is waiting on the "disk".
    for (let reads = 0; reads < 1000; reads += 1) {
      await settle();
      connection.ping(ping);
      if (!feed.releaseRead()) break;
    }
    await settle();

    const written = blocks(socket.text);
    expect(written[0]).toBe('retry: 1000');
    const rest = written.slice(1);
    // Every block is either a whole frame, in order, or a whole heartbeat; at least one heartbeat
    // went out (between frames), so the rule is not kept by never pinging.
    expect(rest.filter((b) => b !== ': ping now')).toEqual(frames.map((f) => f.slice(0, -2)));
    expect(rest.filter((b) => b === ': ping now').length).toBeGreaterThan(0);
  });

  it('tracks a frame boundary across one-byte writes', async () => {
    const socket = new FakeSocket();
    const feed = new ControlledFeed(Buffer.from(frames.slice(0, 3).join('')));
    const start: StreamStart = { feed, from: 0, preamble: null, release: () => {} };
    const connection = new SseConnection(new FakeResponse(socket) as unknown as ServerResponse, start, { maxUnsentBytes: 1 << 20, readChunkBytes: 1, stallMs: 5000 });
    connection.open(1000);
    for (let reads = 0; reads < 10000; reads += 1) {
      await settle();
      connection.ping(ping);
      if (!feed.releaseRead()) break;
    }
    await settle();
    const rest = blocks(socket.text).slice(1);
    expect(rest.filter((b) => b !== ': ping now')).toEqual(frames.slice(0, 3).map((f) => f.slice(0, -2)));
    // Between the three frames (and after the retry), never inside one.
    expect(rest.filter((b) => b === ': ping now').length).toBeGreaterThan(0);
  });
});
