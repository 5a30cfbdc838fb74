import { jest } from '@jest/globals';
import type { FeedAppend } from '../../src/events/feed.js';
import { ClientPool } from '../../src/sse/client-pool.js';
import type { CloseReason, SseConnection } from '../../src/sse/sse-connection.js';

/** A connection at the pool's edge: what the pool calls on it, recorded; closing it is the test's to do. */
class FakeConnection {
  readonly delivered: FeedAppend[] = [];
  readonly pings: Buffer[] = [];
  endedWith: CloseReason | null = null;
  bytesWritten = 0;
  private readonly closeListeners: Array<(reason: CloseReason) => void> = [];

  constructor(readonly feedKey: string) {}

  onClose(listener: (reason: CloseReason) => void): void {
    this.closeListeners.push(listener);
  }

  deliver(append: FeedAppend): void {
    this.delivered.push(append);
    this.bytesWritten += append.data.length;
  }

  ping(comment: Buffer): void {
    this.pings.push(comment);
  }

  end(reason: CloseReason): void {
    this.endedWith = reason;
    this.close(reason);
  }

  close(reason: CloseReason): void {
    for (const listener of this.closeListeners) listener(reason);
  }

  asConnection(): SseConnection {
    return this as unknown as SseConnection;
  }
}

function append(feed: string, text: string): FeedAppend {
  return { feed, from: 0, to: 1, data: Buffer.from(text), isFinal: false };
}

/** Reserves a slot for the address and adds a fake connection of that feed into it. */
function connect(pool: ClientPool, feed: string, address = '10.0.0.1'): FakeConnection {
  expect(pool.reserve(address)).toBe('reserved');
  const connection = new FakeConnection(feed);
  pool.add(connection.asConnection(), address);
  return connection;
}

describe('ClientPool', () => {
  afterEach(() => jest.useRealTimers());

  it('refuses past its cap, and counts each refusal', () => {
    const pool = new ClientPool(2, 15000);
    expect(pool.reserve('a')).toBe('reserved');
    expect(pool.reserve('b')).toBe('reserved');
    expect(pool.reserve('c')).toBe('pool_full');
    expect(pool.size).toBe(2);
    expect(pool.stats.rejected).toBe(1);
    pool.unreserve('b');
    expect(pool.reserve('c')).toBe('reserved');
  });

  it("tells an address over its share so before it looks at the pool's cap", () => {
    const pool = new ClientPool(2, 15000, 1);
    expect(pool.reserve('a')).toBe('reserved');
    expect(pool.reserve('a')).toBe('address_full');
    expect(pool.reserve('b')).toBe('reserved');
    // The pool is full too, but the address hears of its own share.
    expect(pool.reserve('a')).toBe('address_full');
    expect(pool.stats).toMatchObject({ rejected: 0, rejectedPerAddress: 2 });
    expect(pool.heldBy('a')).toBe(1);
  });

  it('writes what was appended only to the clients of that feed', () => {
    const pool = new ClientPool(10, 15000);
    const globalReader = connect(pool, 'global');
    const buildReader = connect(pool, 'b1');
    const otherBuildReader = connect(pool, 'b2');
    pool.deliver([append('global', 'g'), append('b1', 'one')]);
    expect(globalReader.delivered.map((a) => a.data.toString())).toEqual(['g']);
    expect(buildReader.delivered.map((a) => a.data.toString())).toEqual(['one']);
    expect(otherBuildReader.delivered).toEqual([]);
  });

  it('frees the slot of a connection that closes, keeps the bytes it was sent, and counts a slow one as dropped', () => {
    const pool = new ClientPool(10, 15000, 5);
    const slow = connect(pool, 'b1', 'x');
    const quitter = connect(pool, 'b1', 'x');
    pool.deliver([append('b1', 'twelve bytes')]);
    slow.close('slow');
    quitter.close('client');
    // A second close of the same connection changes nothing.
    quitter.close('client');
    expect(pool.size).toBe(0);
    expect(pool.heldBy('x')).toBe(0);
    expect(pool.bytesSent()).toBe(24);
    expect(pool.stats.slowDropped).toBe(1);
    pool.deliver([append('b1', 'late')]);
    expect(slow.delivered).toHaveLength(1);
  });

  it('beats with one timer, the same bytes to every client, and stops once the last one closed', () => {
    jest.useFakeTimers();
    const pool = new ClientPool(10, 1000);
    const first = connect(pool, 'global');
    const second = connect(pool, 'b1');
    jest.advanceTimersByTime(1000);
    expect(first.pings).toHaveLength(1);
    expect(second.pings).toHaveLength(1);
    expect(first.pings[0]).toBe(second.pings[0]);
    expect(first.pings[0]!.toString()).toMatch(/^: ping \d{4}-\d\d-\d\dT[\d:.]+Z\n\n$/);
    first.close('client');
    second.close('client');
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(5000);
    expect(second.pings).toHaveLength(1);
  });

  it('ends every stream with the reason given and beats no more', () => {
    jest.useFakeTimers();
    const pool = new ClientPool(10, 1000);
    const readers = [connect(pool, 'global'), connect(pool, 'b1'), connect(pool, 'b1')];
    pool.endAll('shutdown');
    expect(readers.map((reader) => reader.endedWith)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(pool.size).toBe(0);
    jest.advanceTimersByTime(5000);
    expect(readers.every((reader) => reader.pings.length === 0)).toBe(true);
  });
});
