import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { StreamStart } from '../events/event-log.js';
import type { FeedAppend, FeedSlice } from '../events/feed.js';
import { encodeRetry } from './encode-frame.js';

/** Limits of one connection's outgoing data. */
export interface ConnectionLimits {
  /** Unsent bytes a connection may hold in memory; beyond this it reads from history instead. */
  readonly maxUnsentBytes: number;
  /** Size of each read from history while catching up. */
  readonly readChunkBytes: number;
  /** A client more than maxUnsentBytes behind that has not taken a byte for this long is dropped. */
  readonly stallMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxUnsentBytes: 1 << 20,
  // One history chunk: a replay is a few large zero-copy writes, not many small ones.
  readChunkBytes: 1 << 20,
  stallMs: 5000,
};

const LF = 0x0a;
/** Largest single socket write (zero-copy slices of a larger buffer). */
const WRITE_PIECE_BYTES = 64 << 10;

/** How long an ended stream may take to deliver its last bytes before its socket is destroyed. */
const END_GRACE_MS = 10000;

export type CloseReason = 'client' | 'finished' | 'slow' | 'truncated' | 'shutdown' | 'error';

type State = 'catching-up' | 'live' | 'closed';

/**
 * One SSE client. It is either live (each flush is written to it as it happens) or catching
 * up (it reads the feed's history from its cursor, as fast as the socket takes it). A client
 * that cannot take a live write within its unsent-bytes limit falls back to catching up, so
 * a slow reader costs at most maxUnsentBytes of memory and never holds up anyone else, and a
 * reader that keeps reading is never dropped, however bursty the output.
 */
export class SseConnection {
  private state: State = 'catching-up';
  private cursor: number;
  /**
   * Writes go straight to the socket once the headers are out: the body is close-delimited,
   * so the response object would only add its own bookkeeping to every write.
   */
  private readonly socket: Socket;
  private readonly onSocketDrain = () => this.onDrain();
  private stallTimer: NodeJS.Timeout | null = null;
  /** Bytes the socket had handed to the kernel when the stall timer was last armed. */
  private flushedAtStallCheck = 0;
  private isDrainPending = false;
  private closeListeners: Array<(reason: CloseReason) => void> = [];
  /**
   * Whether the last byte written ended a frame. History is read in slices that may end inside
   * a frame (a chunk boundary, the unsent-bytes room), and between two slices the socket may be
   * empty while the next one is read from disk: only this tells a heartbeat that it may go now.
   */
  private isAtFrameBoundary = true;
  private lastByteWritten = -1;
  bytesWritten = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly start: StreamStart,
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ) {
    this.cursor = start.from;
    this.socket = res.socket!;
    res.on('close', () => this.close('client'));
  }

  get feedKey(): string {
    return this.start.feed.key;
  }

  onClose(listener: (reason: CloseReason) => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends the retry delay and any reset frame, then replays history up to the head. */
  open(retryMs: number): void {
    this.write(Buffer.from(encodeRetry(retryMs) + (this.start.preamble ?? '')));
    void this.catchUp();
  }

  /** A flush of this client's feed. Only live clients take it; the others read it from history. */
  deliver(append: FeedAppend): void {
    if (this.state !== 'live' || append.to <= this.cursor) return;
    if (append.from !== this.cursor || this.socket.writableLength + append.data.length > this.limits.maxUnsentBytes) {
      this.fallBehind();
      return;
    }
    this.write(append.data);
    this.cursor = append.to;
    if (append.isFinal) this.finish();
  }

  /**
   * Writes a heartbeat comment, unless data is already waiting to go out (the stream is not
   * idle) or the last write ended inside a frame: nothing may ever go between the bytes of one
   * frame (the contract's Heartbeat rule; issue 8).
   */
  ping(comment: Buffer): void {
    if (this.state === 'closed' || !this.isAtFrameBoundary || this.socket.writableLength > 0) return;
    this.write(comment);
  }

  /** Ends the stream after what was already written, e.g. at shutdown. */
  end(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.res.end();
    this.close(reason);
    // The slot is free already; the socket goes too if the client never takes the rest.
    const timer = setTimeout(() => this.res.destroy(), END_GRACE_MS).unref();
    this.res.once('close', () => clearTimeout(timer));
  }

  /** Drops the client at once, e.g. because it stopped reading. */
  destroy(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.close(reason);
    this.res.destroy();
  }

  private async catchUp(): Promise<void> {
    const { feed } = this.start;
    while (this.state === 'catching-up' && !this.isDrainPending) {
      if (this.cursor === feed.head()) {
        if (feed.isComplete()) this.finish();
        else this.state = 'live';
        return;
      }
      // Never more than fits under the unsent-bytes limit.
      const room = this.limits.maxUnsentBytes - this.socket.writableLength;
      let slice: FeedSlice | null;
      try {
        slice = await feed.readSlice(this.cursor, Math.min(this.limits.readChunkBytes, room));
      } catch {
        // The history cannot be read (a disk error): this client reconnects and gets a reset.
        this.destroy('error');
        return;
      }
      if (this.state !== 'catching-up') return;
      if (slice === null) {
        // The global history dropped what this client had not read yet; it resumes with a reset.
        this.destroy('truncated');
        return;
      }
      const isBelowLimit = this.write(slice.data);
      this.cursor = slice.next;
      if (!isBelowLimit) this.waitForDrain();
    }
  }

  private fallBehind(): void {
    this.state = 'catching-up';
    this.waitForDrain();
  }

  private waitForDrain(): void {
    if (this.isDrainPending) return;
    this.isDrainPending = true;
    if (!this.socket.writableNeedDrain) {
      // Below the socket's own high-water mark no 'drain' will come: go on in the next turn.
      setImmediate(() => this.onDrain());
      return;
    }
    // Listened for only while waiting: a listener for the stream's whole life would be called
    // on every drain of a busy socket.
    this.socket.once('drain', this.onSocketDrain);
    this.armStallTimer();
  }

  private onDrain(): void {
    if (!this.isDrainPending || this.state === 'closed') return;
    this.isDrainPending = false;
    this.socket.off('drain', this.onSocketDrain);
    this.clearStallTimer();
    void this.catchUp();
  }

  private armStallTimer(): void {
    this.flushedAtStallCheck = this.flushedBytes();
    this.stallTimer = setTimeout(() => this.onStall(), this.limits.stallMs);
  }

  /**
   * No drain for stallMs. A reader that still takes bytes, however slowly, is reading: a full
   * drain of the unsent bytes may take longer than stallMs at its pace, and the contract never
   * drops a reader that keeps reading. One that took nothing and is far behind is dropped.
   */
  private onStall(): void {
    this.stallTimer = null;
    const hasProgressed = this.flushedBytes() > this.flushedAtStallCheck;
    const behind = this.start.feed.bytesAfter(this.cursor) + this.socket.writableLength;
    if (!hasProgressed && behind > this.limits.maxUnsentBytes) this.destroy('slow');
    else this.armStallTimer();
  }

  /** Bytes written that have left this process's buffer for the kernel (and so, in the end, the client). */
  private flushedBytes(): number {
    return this.bytesWritten - this.socket.writableLength;
  }

  private finish(): void {
    this.end('finished');
  }

  /** Writes bytes; false once the unsent bytes reach a quarter of the limit (time to wait for a drain). */
  private write(data: Buffer): boolean {
    if (data.length === 0) return this.socket.writableLength < this.limits.maxUnsentBytes / 4;
    // In pieces: a socket counts a write as sent only once all of it is, and a slow reader's
    // progress (see onStall) must show before a whole megabyte has gone.
    for (let offset = 0; offset < data.length; offset += WRITE_PIECE_BYTES) {
      this.socket.write(offset === 0 && data.length <= WRITE_PIECE_BYTES ? data : data.subarray(offset, offset + WRITE_PIECE_BYTES));
    }
    this.bytesWritten += data.length;
    this.trackFrameBoundary(data);
    return this.socket.writableLength < this.limits.maxUnsentBytes / 4;
  }

  /** A frame holds no blank line but its last, so bytes that end with `\n\n` end a frame. */
  private trackFrameBoundary(data: Buffer): void {
    const last = data[data.length - 1]!;
    const beforeLast = data.length >= 2 ? data[data.length - 2]! : this.lastByteWritten;
    this.isAtFrameBoundary = last === LF && beforeLast === LF;
    this.lastByteWritten = last;
  }

  private close(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearStallTimer();
    this.socket.off('drain', this.onSocketDrain);
    this.start.release();
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(reason);
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }
}
