import fs from 'node:fs';
import { readByteSlice, type Feed, type FeedSlice } from './feed.js';
import { FrameLocator } from './frame-locator.js';
import { HistoryChunkCache } from './history-chunk-cache.js';

/** The file operations a BuildHistory uses; tests swap in failing ones to play a full disk. */
export interface HistoryFileSystem {
  openSync(path: string, flags: string): number;
  sizeSync(fd: number): number;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
}

export const nodeHistoryFileSystem: HistoryFileSystem = {
  openSync: (p, flags) => fs.openSync(p, flags),
  sizeSync: (fd) => fs.fstatSync(fd).size,
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  closeSync: (fd) => fs.closeSync(fd),
  read: (fd, buffer, offset, length, position) =>
    new Promise((resolve, reject) =>
      fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
    ),
};

/** One event appended to a build's history: its global number and end offset within the data. */
export interface AppendedEvent {
  readonly number: number;
  readonly end: number;
}

/** Histories are read and cached in aligned chunks of this size. */
export const CHUNK_BYTES = 1 << 20;
const INITIAL_TAIL_BYTES = 16 << 10;
const EMPTY = Buffer.alloc(0);
const FRAME_END = Buffer.from('\n\n');

/**
 * The whole event history of one build: its frames, appended to a file under DATA_DIR as they
 * are flushed (synchronously, so the file always holds everything a live reader was sent).
 *
 * Bytes are served in aligned chunks: the last, growing chunk is mirrored in memory; finished
 * chunks go to a shared cache (or, when the disk refused part of them, are pinned in memory,
 * so no reader misses a line). A replay is thus a series of zero-copy slices, read from disk
 * at most once however many clients replay at once.
 *
 * Where a resume starts is found by a FrameLocator (a binary search over chunks with a sparse
 * index of one entry per chunk), never by an index of every event: a resume into a build of
 * millions of events reads a few chunks, whatever the id (issue 8). Opening a history reads
 * only its tail: its head, whether it is complete, and its event count (the last frame's n).
 */
export class BuildHistory implements Feed {
  /** Descriptor for reads of an existing file; appends get their own (appendFd). */
  private fd: number | null = null;
  private appendFd: number | null = null;
  /** Bytes of ours on disk (a torn tail beyond them is cut before the next append). */
  private diskBytes = 0;
  private headBytes = 0;
  private tail: Buffer = EMPTY;
  private tailStart = 0;
  private tailLength = 0;
  private readonly pinned = new Map<number, Buffer>();
  private readonly chunkReads = new Map<number, Promise<Buffer | null>>();
  private readonly locator = new FrameLocator(this, CHUNK_BYTES);
  private events = 0;
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
    private readonly cache: HistoryChunkCache,
  ) {}

  /** A history for a build that has none yet: the file is created on the first append. */
  static create(key: string, file: string, fsOps: HistoryFileSystem = nodeHistoryFileSystem, cache = new HistoryChunkCache(0)): BuildHistory {
    return new BuildHistory(key, file, fsOps, cache);
  }

  /**
   * Opens a build's existing history from its tail: its head is the end of its last whole
   * frame (a torn frame after it is left out, and cut off before the next append).
   * `problem` says what was found wrong, if anything.
   */
  static async open(
    key: string,
    file: string,
    fsOps: HistoryFileSystem = nodeHistoryFileSystem,
    cache = new HistoryChunkCache(0),
  ): Promise<{ history: BuildHistory; problem: string | null }> {
    const history = new BuildHistory(key, file, fsOps, cache);
    let fd: number;
    try {
      fd = fsOps.openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return { history, problem: null };
    }
    history.fd = fd;
    const problem = await history.openTail(fsOps.sizeSync(fd));
    return { history, problem };
  }

  head(): number {
    return this.headBytes;
  }

  isComplete(): boolean {
    return this.complete;
  }

  isKept(from: number): boolean {
    return from >= 0 && from <= this.headBytes;
  }

  /**
   * Marks a history that nobody will append to as complete even without its `end` (one
   * loaded from disk after a crash), so that readers stop at its head instead of waiting.
   */
  seal(): void {
    this.complete = true;
  }

  /** The first write error, once the disk refused a write. */
  get failure(): Error | null {
    return this.storageError;
  }

  /** Number of events in the history: the position of its last event. */
  get eventCount(): number {
    return this.events;
  }

  /** Entries of the sparse resume index (at most one per chunk). */
  get indexSize(): number {
    return this.locator.indexSize;
  }

  /**
   * Where a reader resumes after the event at this position in the build (0: from the start),
   * checked against the event's global number; null when the id does not match.
   */
  async offsetAfter(position: number, globalNumber: number): Promise<number | null> {
    if (position === 0) return 0;
    if (!Number.isSafeInteger(position) || position < 0 || position > this.events) return null;
    const frame = await this.locator.find(position);
    return frame !== null && frame.globalNumber === globalNumber ? frame.end : null;
  }

  /** Appends frames that were flushed together. Never throws: what the disk refuses stays in memory. */
  append(data: Buffer, events: readonly AppendedEvent[], isFinal: boolean): { from: number; error: Error | null } {
    const from = this.headBytes;
    let error: Error | null = null;
    if (this.storageError === null) {
      const written = this.writeToDisk(data, from);
      if (written < data.length) error = this.storageError;
    }
    this.mirror(data);
    this.headBytes += data.length;
    this.events += events.length;
    if (isFinal) this.complete = true;
    return { from, error };
  }

  readSlice(from: number, maxBytes: number): Promise<FeedSlice | null> {
    return readByteSlice(this, from, maxBytes);
  }

  bytesAfter(from: number): number {
    return this.head() - from;
  }

  async read(from: number, maxBytes: number): Promise<Buffer | null> {
    if (!this.isKept(from) || this.isClosing) return null;
    if (from === this.headBytes) return EMPTY;
    if (from >= this.tailStart) return this.tail.subarray(from - this.tailStart, Math.min(this.tailLength, from - this.tailStart + maxBytes));
    const index = Math.floor(from / CHUNK_BYTES);
    const chunk = this.pinned.get(index) ?? this.cache.get(this.chunkKey(index)) ?? (await this.loadChunk(index));
    if (chunk === null) return null;
    const offset = from - index * CHUNK_BYTES;
    return chunk.subarray(offset, Math.min(chunk.length, offset + maxBytes));
  }

  /**
   * As read(), but a chunk that is not in memory is not loaded (nor cached): only the bytes
   * asked for are read from disk. For the few small probes of a resume's binary search.
   */
  async peek(from: number, maxBytes: number): Promise<Buffer | null> {
    if (!this.isKept(from) || this.isClosing) return null;
    if (from === this.headBytes || from >= this.tailStart) return this.read(from, maxBytes);
    const index = Math.floor(from / CHUNK_BYTES);
    if (this.pinned.has(index) || this.cache.has(this.chunkKey(index))) return this.read(from, maxBytes);
    try {
      return await this.readFromDisk(from, Math.min(maxBytes, (index + 1) * CHUNK_BYTES - from));
    } catch {
      return null;
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

  /**
   * Finds the head (the end of the last whole frame of ours) from the file's tail, and loads
   * the last chunk. A torn last frame, or a last frame that is not ours, is left out (and cut
   * off before the next append).
   */
  private async openTail(size: number): Promise<string | null> {
    this.diskBytes = this.headBytes = size;
    await this.loadTail();
    let problem: string | null = null;
    let head = size;
    const ending = size >= 2 ? await this.read(size - 2, 2) : EMPTY;
    if (size > 0 && !ending?.equals(FRAME_END)) {
      head = await this.locator.lastFrameEnd(size);
      problem = `${size - head} bytes of a torn last frame left out`;
    }
    let last = await this.locator.last(head);
    while (last === null && head > 0) {
      const before = await this.locator.lastFrameEnd(head - 1);
      problem = `${size - before} bytes of a malformed last frame left out`;
      head = before;
      last = await this.locator.last(head);
    }
    if (head < size) {
      this.cutAt(head);
      await this.loadTail();
    }
    this.complete = last?.event === 'end';
    this.events = last?.position ?? 0;
    return problem;
  }

  /** Loads the last, incomplete chunk (up to the head) into memory, where appends continue it. */
  private async loadTail(): Promise<void> {
    this.tailStart = Math.floor(this.headBytes / CHUNK_BYTES) * CHUNK_BYTES;
    this.tailLength = this.headBytes - this.tailStart;
    this.tail = await this.readFromDisk(this.tailStart, this.tailLength);
  }

  /**
   * Ends the history at a byte offset: what follows is cut off before the next append, so no
   * cached chunk past it may be served again (the caller then reloads the tail).
   */
  private cutAt(offset: number): void {
    for (let index = Math.floor(offset / CHUNK_BYTES); index * CHUNK_BYTES < this.headBytes; index += 1) {
      this.cache.delete(this.chunkKey(index));
    }
    this.diskBytes = this.headBytes = offset;
  }

  /** Copies appended bytes into the last chunk; a full chunk goes to the cache (or stays pinned). */
  private mirror(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(CHUNK_BYTES - this.tailLength, data.length - offset);
      this.growTail(this.tailLength + take);
      data.copy(this.tail, this.tailLength, offset, offset + take);
      this.tailLength += take;
      offset += take;
      if (this.tailLength === CHUNK_BYTES) this.finishChunk();
    }
  }

  private growTail(needed: number): void {
    if (needed <= this.tail.length) return;
    // Readers may hold slices of the old buffer: they keep the bytes they were given.
    const grown = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(needed, this.tail.length * 2, INITIAL_TAIL_BYTES)));
    this.tail.copy(grown, 0, 0, this.tailLength);
    this.tail = grown;
  }

  private finishChunk(): void {
    const index = this.tailStart / CHUNK_BYTES;
    if (this.tailStart + CHUNK_BYTES <= this.diskBytes) this.cache.set(this.chunkKey(index), this.tail);
    else this.pinned.set(index, this.tail); // not (all) on disk: memory is its only copy
    this.tail = EMPTY;
    this.tailStart += CHUNK_BYTES;
    this.tailLength = 0;
  }

  private chunkKey(index: number): string {
    return `${this.key}:${index}`;
  }

  /** Reads a whole chunk below the tail from disk, once however many readers ask at the same time. */
  private loadChunk(index: number): Promise<Buffer | null> {
    let loading = this.chunkReads.get(index);
    if (!loading) {
      loading = this.readFromDisk(index * CHUNK_BYTES, CHUNK_BYTES).then(
        (chunk) => {
          if (chunk.length === CHUNK_BYTES) this.cache.set(this.chunkKey(index), chunk);
          return chunk;
        },
        () => null,
      );
      this.chunkReads.set(index, loading);
      void loading.finally(() => this.chunkReads.delete(index));
    }
    return loading;
  }

  private async readFromDisk(position: number, length: number): Promise<Buffer> {
    const fd = this.fd ?? this.appendFd;
    if (fd === null || length === 0) return EMPTY;
    const buffer = Buffer.allocUnsafe(length);
    this.readsInFlight += 1;
    try {
      const bytesRead = await this.fsOps.read(fd, buffer, 0, length, position);
      return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    } finally {
      this.readsInFlight -= 1;
      if (this.isClosing && this.readsInFlight === 0) this.closeFile();
    }
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
    // A torn or malformed tail is cut off so that new frames follow whole ones.
    this.fsOps.ftruncateSync(fd, this.diskBytes);
    this.appendFd = fd;
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
}
