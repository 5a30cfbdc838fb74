import type { Redis } from 'ioredis';
import { GLOBAL_FEED, type Feed, type FeedSlice } from '../events/feed.js';
import type { ClusterKeys } from './cluster-keys.js';
import { CHUNK_FRAMES, sliceChunk, type FrameChunkCache } from './frame-chunk-cache.js';

/** Frames read from Redis at once while catching up, at most. */
const MAX_FRAMES_PER_READ = 2000;
/**
 * What a frame is taken to weigh before a feed has read any: high, so that a first read of a
 * build that prints long lines (a frame may reach a few hundred KiB) stays near its byte budget.
 */
const FIRST_GUESS_FRAME_BYTES = 8192;
/** A typical log line's frame: for judging how far behind a reader is. */
const TYPICAL_FRAME_BYTES = 256;
const END_FIELD = Buffer.from('\nevent: end\n');

/**
 * How many frames to ask Redis for to get about maxBytes, from the frames read so far: reads
 * are counted in frames, and a byte budget is what keeps a reader's memory bounded.
 */
class FrameSizeGuess {
  private bytesPerFrame = FIRST_GUESS_FRAME_BYTES;

  framesFor(maxBytes: number): number {
    return Math.max(1, Math.min(MAX_FRAMES_PER_READ, Math.floor(maxBytes / this.bytesPerFrame)));
  }

  learn(bytes: number, frames: number): void {
    if (frames > 0) this.bytesPerFrame = Math.max(64, Math.ceil(bytes / frames));
  }
}

/** One entry of the cluster's event stream, as the reader gets it. */
export interface StreamEntry {
  /** Its place in the cluster's one order (the `g` of its id). */
  readonly global: number;
  readonly buildId: string;
  /** Its place in its build's stream (the `n` of its id). */
  readonly number: number;
  readonly event: string;
  readonly frame: Buffer;
}

/** Parses XRANGE/XREAD entries (`<g>-0`, fields b n e f) read as buffers. */
export function parseEntries(raw: ReadonlyArray<[Buffer, Buffer[]]>): StreamEntry[] {
  return raw.map(([id, fields]) => {
    const values = new Map<string, Buffer>();
    for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i]!.toString(), fields[i + 1]!);
    return {
      global: Number.parseInt(id.toString(), 10),
      buildId: values.get('b')?.toString() ?? '',
      number: Number(values.get('n')?.toString() ?? '0'),
      event: values.get('e')?.toString() ?? '',
      frame: values.get('f') ?? Buffer.alloc(0),
    };
  });
}

/**
 * The global stream as one process serves it from Redis: positions are the cluster's event
 * numbers, so an id from any process names the same place. Catching up reads the events
 * stream; what comes after is delivered live by the process's one reader.
 */
export class ClusterGlobalFeed implements Feed {
  readonly key = GLOBAL_FEED;
  private highestSeen = 0;
  private readonly sizes = new FrameSizeGuess();

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly liveHead: () => number,
  ) {}

  head(): number {
    return Math.max(this.liveHead(), this.highestSeen);
  }

  isComplete(): boolean {
    return false;
  }

  /** A position a reader starts from is one the feed has reached. */
  noteSeen(position: number): void {
    this.highestSeen = Math.max(this.highestSeen, position);
  }

  reset(): void {
    this.highestSeen = 0;
  }

  async readSlice(from: number, maxBytes: number): Promise<FeedSlice | null> {
    const raw = (await this.redis.xrangeBuffer(this.keys.events, `${from + 1}-0`, '+', 'COUNT', this.sizes.framesFor(maxBytes))) as Array<[Buffer, Buffer[]]>;
    const entries = parseEntries(raw);
    this.sizes.learn(entries.reduce((sum, entry) => sum + entry.frame.length, 0), entries.length);
    // Every event has its number in the stream: a gap means the stream was trimmed past this reader.
    if (entries.length === 0) return from < this.head() ? null : { data: Buffer.alloc(0), next: from };
    if (entries[0]!.global !== from + 1) return null;
    const next = entries.at(-1)!.global;
    this.noteSeen(next);
    return { data: Buffer.concat(entries.filter((e) => e.event !== 'end').map((e) => e.frame)), next };
  }

  bytesAfter(from: number): number {
    return (this.head() - from) * TYPICAL_FRAME_BYTES;
  }
}

/**
 * One build's stream from Redis: positions are the build's event numbers (`n`), and frame n
 * is item n - 1 of the build's list. Complete once its `end` is known, from the record, a
 * read, or the live reader.
 */
export class ClusterBuildFeed implements Feed {
  private headNumber = 0;
  private isEnded = false;
  private readonly sizes = new FrameSizeGuess();
  readers = 0;

  constructor(
    readonly key: string,
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly chunks: FrameChunkCache,
  ) {}

  head(): number {
    return this.headNumber;
  }

  isComplete(): boolean {
    return this.isEnded;
  }

  noteHead(number: number, isEnd: boolean): void {
    this.headNumber = Math.max(this.headNumber, number);
    if (isEnd) this.isEnded = true;
  }

  async readSlice(from: number, maxBytes: number): Promise<FeedSlice | null> {
    const index = Math.floor(from / CHUNK_FRAMES);
    if ((index + 1) * CHUNK_FRAMES <= this.headNumber) {
      const chunk = await this.chunks.fullChunk(this.keys.frames(this.key), index);
      if (chunk) {
        const { data, frames } = sliceChunk(chunk, from - index * CHUNK_FRAMES, maxBytes);
        return { data, next: from + frames };
      }
    }
    const frames = await this.redis.lrangeBuffer(this.keys.frames(this.key), from, from + this.sizes.framesFor(maxBytes) - 1);
    this.sizes.learn(frames.reduce((sum, frame) => sum + frame.length, 0), frames.length);
    if (frames.length === 0) return from < this.headNumber ? null : { data: Buffer.alloc(0), next: from };
    const next = from + frames.length;
    this.noteHead(next, frames.at(-1)!.includes(END_FIELD));
    return { data: frames.length === 1 ? frames[0]! : Buffer.concat(frames), next };
  }

  bytesAfter(from: number): number {
    return (this.headNumber - from) * TYPICAL_FRAME_BYTES;
  }
}
