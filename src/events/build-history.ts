import fs from 'node:fs';
import type { Feed } from './feed.js';
import { FrameParser } from './frame-parser.js';
import { parseEventId } from './event-id.js';

/** The file operations a BuildHistory uses; tests swap in failing ones to play a full disk. */
export interface HistoryFileSystem {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

export const nodeHistoryFileSystem: HistoryFileSystem = {
  openSync: (p, flags) => fs.openSync(p, flags),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  closeSync: (fd) => fs.closeSync(fd),
  read: (fd, buffer, offset, length, position) =>
    new Promise((resolve, reject) =>
      fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
    ),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
};

/** One event appended to a build's history: its global number and end offset within the data. */
export interface AppendedEvent {
  readonly number: number;
  readonly end: number;
}

const SCAN_CHUNK_BYTES = 1 << 20;

/**
 * The whole event history of one build: its frames, appended to a file under DATA_DIR as they
 * are flushed (synchronously, so the file always holds everything a live reader was sent),
 * with an index from each event's position in the build to its end offset. When the disk
 * refuses a write, the rest is kept in memory so that no reader misses a line, and the owner
 * is told so that it can fail the build.
 */
export class BuildHistory implements Feed {
  /** Descriptor for reads of an existing file; appends get their own (appendFd). */
  private fd: number | null = null;
  private appendFd: number | null = null;
  private diskBytes = 0;
  private readonly memory: Buffer[] = [];
  private memoryBytes = 0;
  private readonly ends: number[] = [];
  private readonly numbers: number[] = [];
  private complete = false;
  private storageError: Error | null = null;
  private readsInFlight = 0;
  private isClosing = false;
  /** Readers attached; the owner closes the file when none is left and the build is over. */
  readers = 0;

  private constructor(
    readonly key: string,
    private readonly file: string,
    private readonly fsOps: HistoryFileSystem,
  ) {}

  /** A history for a build that has none yet: the file is created on the first append. */
  static create(key: string, file: string, fsOps: HistoryFileSystem = nodeHistoryFileSystem): BuildHistory {
    return new BuildHistory(key, file, fsOps);
  }

  /**
   * Opens a build's existing history and indexes it. A torn or malformed tail is left out
   * (and cut off before the next append); `problem` says what was found.
   */
  static async open(
    key: string,
    file: string,
    fsOps: HistoryFileSystem = nodeHistoryFileSystem,
  ): Promise<{ history: BuildHistory; problem: string | null }> {
    const history = new BuildHistory(key, file, fsOps);
    let fd: number;
    try {
      fd = fsOps.openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { history, problem: null };
      throw error;
    }
    history.fd = fd;
    const problem = await history.index(fd);
    return { history, problem };
  }

  head(): number {
    return this.diskBytes + this.memoryBytes;
  }

  isComplete(): boolean {
    return this.complete;
  }

  isKept(from: number): boolean {
    return from >= 0 && from <= this.head();
  }

  /**
   * Marks a history that nobody will append to as complete even without its `end` (one
   * loaded from disk after a crash), so that readers stop at its head instead of waiting.
   */
  seal(): void {
    this.complete = true;
  }

  /** Number of events in the history. */
  get eventCount(): number {
    return this.ends.length;
  }

  /** The first write error, once the disk refused a write. */
  get failure(): Error | null {
    return this.storageError;
  }

  /**
   * Where a reader resumes after the event with this position in the build (0: from the
   * start), checked against the event's global number; null when the id does not match.
   */
  offsetAfter(position: number, globalNumber: number): number | null {
    if (position === 0) return 0;
    if (!Number.isInteger(position) || position < 0 || position > this.ends.length) return null;
    if (this.numbers[position - 1] !== globalNumber) return null;
    return this.ends[position - 1]!;
  }

  /** Appends frames that were flushed together. Never throws: a failed write goes to memory. */
  append(data: Buffer, events: readonly AppendedEvent[], isFinal: boolean): { from: number; error: Error | null } {
    const from = this.head();
    let error: Error | null = null;
    if (this.storageError === null) {
      const written = this.writeToDisk(data, from);
      if (written < data.length) {
        error = this.storageError;
        this.keepInMemory(data.subarray(written));
      }
    } else {
      this.keepInMemory(data);
    }
    for (const event of events) {
      this.ends.push(from + event.end);
      this.numbers.push(event.number);
    }
    if (isFinal) this.complete = true;
    return { from, error };
  }

  async read(from: number, maxBytes: number): Promise<Buffer | null> {
    if (!this.isKept(from) || this.isClosing) return null;
    if (from >= this.diskBytes) return this.readMemory(from, maxBytes);
    const length = Math.min(maxBytes, this.diskBytes - from);
    const buffer = Buffer.allocUnsafe(length);
    this.readsInFlight += 1;
    try {
      const bytesRead = await this.fsOps.read((this.fd ?? this.appendFd)!, buffer, 0, length, from);
      return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    } finally {
      this.readsInFlight -= 1;
      if (this.isClosing && this.readsInFlight === 0) this.closeFile();
    }
  }

  /**
   * Closes the file once no read is in flight (closing it under a read could hand that read
   * another file's bytes when the descriptor is reused). The history is not used afterwards.
   */
  close(): void {
    this.isClosing = true;
    if (this.readsInFlight === 0) this.closeFile();
  }

  private closeFile(): void {
    for (const fd of [this.fd, this.appendFd]) {
      if (fd === null) continue;
      try {
        this.fsOps.closeSync(fd);
      } catch {
        // Nothing useful to do: the descriptor is gone either way.
      }
    }
    this.fd = null;
    this.appendFd = null;
  }

  private writeToDisk(data: Buffer, position: number): number {
    let written = 0;
    try {
      this.openForAppend();
      while (written < data.length) {
        written += this.fsOps.writeSync(this.appendFd!, data, written, data.length - written, position + written);
      }
    } catch (error) {
      this.storageError = error as Error;
    }
    this.diskBytes += written;
    return written;
  }

  private openForAppend(): void {
    if (this.appendFd !== null) return;
    const fd = this.fsOps.openSync(this.file, 'a+');
    // A torn or malformed tail found by index() is cut off so that new frames follow whole ones.
    this.fsOps.ftruncateSync(fd, this.diskBytes);
    this.appendFd = fd;
  }

  private keepInMemory(data: Buffer): void {
    if (data.length === 0) return;
    // Kept as is: flushed batches are never modified, so a shared view is safe.
    this.memory.push(data);
    this.memoryBytes += data.length;
  }

  private readMemory(from: number, maxBytes: number): Buffer {
    const parts: Buffer[] = [];
    let offset = this.diskBytes;
    let taken = 0;
    for (const chunk of this.memory) {
      const chunkEnd = offset + chunk.length;
      if (chunkEnd > from && taken < maxBytes) {
        const part = chunk.subarray(Math.max(0, from - offset), Math.max(0, from - offset) + maxBytes - taken);
        parts.push(part);
        taken += part.length;
      }
      offset = chunkEnd;
    }
    return Buffer.concat(parts, taken);
  }

  private async index(fd: number): Promise<string | null> {
    const parser = new FrameParser();
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let position = 0;
    let lastEvent = '';
    for (;;) {
      const bytesRead = await this.fsOps.read(fd, buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      for (const frame of parser.push(buffer.subarray(0, bytesRead))) {
        const id = parseEventId(frame.id);
        if (!id || id.build !== this.ends.length + 1) {
          return this.stopAt(this.ends.at(-1) ?? 0, `event ${this.ends.length + 1} has an unexpected id "${frame.id}"`);
        }
        this.ends.push(frame.end);
        this.numbers.push(id.global);
        lastEvent = frame.event;
      }
      if (parser.malformedAt !== null) {
        return this.stopAt(parser.malformedAt, `malformed frame at byte ${parser.malformedAt}`);
      }
    }
    this.diskBytes = this.ends.at(-1) ?? 0;
    this.complete = lastEvent === 'end';
    return parser.pendingBytes > 0 ? `${parser.pendingBytes} bytes of a torn last frame left out` : null;
  }

  private stopAt(offset: number, problem: string): string {
    while ((this.ends.at(-1) ?? 0) > offset) {
      this.ends.pop();
      this.numbers.pop();
    }
    this.diskBytes = this.ends.at(-1) ?? 0;
    return problem;
  }
}
