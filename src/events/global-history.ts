import { GLOBAL_FEED, readByteSlice, type Feed, type FeedSlice } from './feed.js';

/** Reads bytes of a build's history (up to a chunk's end), or null when they can no longer be read. */
export type BuildHistoryReader = (buildId: string, from: number, maxBytes: number) => Promise<Buffer | null>;

/** One event appended to the global stream, and where its frame lies in its build's history. */
export interface GlobalEvent {
  readonly number: number;
  /** The frame's length in bytes. */
  readonly size: number;
  readonly buildId: string;
  /** Offset of the frame in the build's history. */
  readonly buildFrom: number;
}

/** A run of global-stream bytes that lie back to back in one build's history. */
interface Segment {
  /** Offset on the global stream. */
  readonly start: number;
  length: number;
  readonly buildId: string;
  readonly buildFrom: number;
}

/**
 * The recent events of the global stream, for resuming. A global frame is byte for byte the
 * frame its build's history holds (same id, encoded once), so the global history keeps no
 * bytes of its own: it maps its offsets to runs of build histories (segments) and reads them
 * there. What it holds is a few numbers per event, so the 10,000 events it keeps cost well
 * under a megabyte however large each is (a copy of 10,000 events of 64 KiB was 640 MB:
 * issue 8). Bounded by event count; the oldest events are dropped first.
 */
export class GlobalHistory implements Feed {
  readonly key = GLOBAL_FEED;
  private readonly segments: Segment[] = [];
  private segmentHead = 0;
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

  constructor(
    private readonly capacity: number,
    private readonly readBuild: BuildHistoryReader,
  ) {
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

  /** Runs of build histories the kept events map to (for tests of its bounds). */
  get segmentCount(): number {
    return this.segments.length - this.segmentHead;
  }

  isKept(from: number): boolean {
    return from >= this.start && from <= this.headOffset;
  }

  /** Appends the events of one flush, in stream order; returns the offset where they start. */
  append(events: readonly GlobalEvent[]): number {
    const from = this.headOffset;
    for (const event of events) {
      this.extendSegments(event);
      if (this.count === this.capacity) this.dropOldest();
      this.headOffset += event.size;
      const slot = (this.first + this.count) % this.capacity;
      this.numbers[slot] = event.number;
      this.ends[slot] = this.headOffset;
      this.count += 1;
      this.lastNumber = event.number;
    }
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

  /**
   * Up to maxBytes from `from`, read from the build histories (one buffer: a slice when it
   * comes from one run, else a copy of at most maxBytes). Null when `from` is no longer kept,
   * or when a build's history cannot be read any more (deleted, or a disk error): the history
   * then forgets every event up to the end of that run, so a reader that resumes there gets
   * a `reset` instead of failing again.
   */
  readSlice(from: number, maxBytes: number): Promise<FeedSlice | null> {
    return readByteSlice(this, from, maxBytes);
  }

  bytesAfter(from: number): number {
    return this.head() - from;
  }

  async read(from: number, maxBytes: number): Promise<Buffer | null> {
    if (!this.isKept(from)) return null;
    if (from === this.headOffset) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let taken = 0;
    let at = from;
    while (taken < maxBytes && at < this.headOffset) {
      // While a build was read the oldest events may have gone: stop at what is still kept.
      if (!this.isKept(at)) break;
      const segment = this.segments[this.segmentIndexAt(at)]!;
      const offset = at - segment.start;
      const part = await this.readBuild(segment.buildId, segment.buildFrom + offset, Math.min(segment.length - offset, maxBytes - taken));
      if (part === null || part.length === 0) {
        this.forgetThrough(segment.start + segment.length);
        return null;
      }
      parts.push(part);
      taken += part.length;
      at += part.length;
    }
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }

  /**
   * Forgets a build whose history was deleted: every kept event up to its last one goes, so
   * that no reader reads into it (one that resumes before it gets a `reset`).
   */
  forgetBuild(buildId: string): void {
    for (let i = this.segments.length - 1; i >= this.segmentHead; i -= 1) {
      const segment = this.segments[i]!;
      if (segment.buildId !== buildId) continue;
      this.forgetThrough(segment.start + segment.length);
      return;
    }
  }

  /** Continues the newest segment when the event follows it in the same build, else starts one. */
  private extendSegments(event: GlobalEvent): void {
    const last = this.segmentHead < this.segments.length ? this.segments[this.segments.length - 1]! : null;
    if (last && last.buildId === event.buildId && last.buildFrom + last.length === event.buildFrom && last.start + last.length === this.headOffset) {
      last.length += event.size;
      return;
    }
    this.segments.push({ start: this.headOffset, length: event.size, buildId: event.buildId, buildFrom: event.buildFrom });
  }

  /** Drops kept events until the history starts at or after `offset`. */
  private forgetThrough(offset: number): void {
    while (this.count > 0 && this.startOffset < offset) this.dropOldest();
  }

  private dropOldest(): void {
    this.droppedThrough = this.numberAt(0);
    this.startOffset = this.endAt(0);
    this.first = (this.first + 1) % this.capacity;
    this.count -= 1;
    const start = this.startOffset;
    // Segments wholly before the oldest kept event are no longer needed.
    while (this.segmentHead < this.segments.length) {
      const segment = this.segments[this.segmentHead]!;
      if (segment.start + segment.length > start) break;
      this.segments[this.segmentHead] = undefined as unknown as Segment;
      this.segmentHead += 1;
    }
    if (this.segmentHead > 1024 && this.segmentHead * 2 > this.segments.length) {
      this.segments.splice(0, this.segmentHead);
      this.segmentHead = 0;
    }
  }

  private segmentIndexAt(offset: number): number {
    let lo = this.segmentHead;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.start <= offset) lo = mid;
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
