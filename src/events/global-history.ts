import type { Feed } from './feed.js';
import { GLOBAL_FEED } from './feed.js';

interface Chunk {
  readonly start: number;
  readonly data: Buffer;
}

/**
 * The recent events of the global stream, kept as the frames already sent (so a resume is a
 * slice write of bytes that exist anyway) with an index from each event's global number to
 * its end offset. Bounded by event count; the oldest events are dropped first.
 */
export class GlobalHistory implements Feed {
  readonly key = GLOBAL_FEED;
  private readonly chunks: Chunk[] = [];
  private chunkHead = 0;
  // Parallel ring arrays: global number and end offset of each kept event.
  private readonly numbers: Float64Array;
  private readonly ends: Float64Array;
  private first = 0;
  private count = 0;
  private headOffset = 0;
  /** Where the oldest kept event starts. */
  private startOffset = 0;
  /** Every event numbered up to this has been dropped (or never existed). */
  private droppedThrough = 0;
  private lastNumber = 0;

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new Error('GlobalHistory needs room for at least one event');
    this.numbers = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
  }

  head(): number {
    return this.headOffset;
  }

  isComplete(): boolean {
    return false;
  }

  /** The number of the newest event dropped from the history (0 when none was). */
  get oldestDropped(): number {
    return this.droppedThrough;
  }

  /** The offset where the kept history starts. */
  get start(): number {
    return this.startOffset;
  }

  isKept(from: number): boolean {
    return from >= this.start && from <= this.headOffset;
  }

  /**
   * Appends the frames of one flush: `data` holds them back to back, `events` gives each
   * one's global number and end offset relative to the start of `data`.
   */
  append(data: Buffer, events: ReadonlyArray<{ readonly number: number; readonly end: number }>): number {
    const from = this.headOffset;
    if (data.length === 0) return from;
    this.chunks.push({ start: from, data });
    for (const { number, end } of events) {
      if (this.count === this.capacity) this.dropOldest();
      const slot = (this.first + this.count) % this.capacity;
      this.numbers[slot] = number;
      this.ends[slot] = from + end;
      this.count += 1;
      this.lastNumber = number;
    }
    this.headOffset = from + data.length;
    return from;
  }

  /**
   * Where to resume after the event numbered `number`: the offset just after it, or null
   * when it is older than the history or newer than anything sent.
   */
  offsetAfter(number: number): number | null {
    if (number < this.droppedThrough || number > this.lastNumber) return null;
    // The last kept event numbered <= number (numbers have gaps: `end` events are not global).
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.numberAt(mid) <= number) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found === -1 ? this.start : this.endAt(found);
  }

  async read(from: number, maxBytes: number): Promise<Buffer | null> {
    return this.readNow(from, maxBytes);
  }

  /** The synchronous core of read(): a view of kept bytes, never a copy of more than one chunk boundary. */
  readNow(from: number, maxBytes: number): Buffer | null {
    if (!this.isKept(from)) return null;
    if (from === this.headOffset) return Buffer.alloc(0);
    const index = this.chunkIndexAt(from);
    const parts: Buffer[] = [];
    let taken = 0;
    for (let i = index; i < this.chunks.length && taken < maxBytes; i += 1) {
      const chunk = this.chunks[i]!;
      const offset = Math.max(0, from - chunk.start);
      const part = chunk.data.subarray(offset, offset + (maxBytes - taken));
      parts.push(part);
      taken += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }

  private dropOldest(): void {
    this.droppedThrough = this.numberAt(0);
    this.startOffset = this.endAt(0);
    this.first = (this.first + 1) % this.capacity;
    this.count -= 1;
    const start = this.startOffset;
    // Chunks wholly before the oldest kept event are no longer needed.
    while (this.chunkHead < this.chunks.length) {
      const chunk = this.chunks[this.chunkHead]!;
      if (chunk.start + chunk.data.length > start) break;
      this.chunks[this.chunkHead] = undefined as unknown as Chunk;
      this.chunkHead += 1;
    }
    if (this.chunkHead > 1024 && this.chunkHead * 2 > this.chunks.length) {
      this.chunks.splice(0, this.chunkHead);
      this.chunkHead = 0;
    }
  }

  private chunkIndexAt(offset: number): number {
    let lo = this.chunkHead;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private numberAt(i: number): number {
    return this.numbers[(this.first + i) % this.capacity]!;
  }

  private endAt(i: number): number {
    return this.ends[(this.first + i) % this.capacity]!;
  }
}
