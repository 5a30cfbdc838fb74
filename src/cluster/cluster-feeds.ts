import type { Redis } from 'ioredis';
import { GLOBAL_FEED, type Feed, type FeedSlice } from '../events/feed.js';
import type { ClusterKeys } from './cluster-keys.js';

/** Frames read from Redis at once while catching up, at most. */
const MAX_FRAMES_PER_READ = 2000;
/** A guess at a frame's size, to turn a byte budget into a count of frames. */
const TYPICAL_FRAME_BYTES = 256;
const END_FIELD = Buffer.from('\nevent: end\n');

function framesFor(maxBytes: number): number {
  return Math.max(1, Math.min(MAX_FRAMES_PER_READ, Math.floor(maxBytes / TYPICAL_FRAME_BYTES)));
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
    const raw = (await this.redis.xrangeBuffer(this.keys.events, `${from + 1}-0`, '+', 'COUNT', framesFor(maxBytes))) as Array<[Buffer, Buffer[]]>;
    const entries = parseEntries(raw);
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
  readers = 0;

  constructor(
    readonly key: string,
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
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
    const frames = await this.redis.lrangeBuffer(this.keys.frames(this.key), from, from + framesFor(maxBytes) - 1);
    if (frames.length === 0) return from < this.headNumber ? null : { data: Buffer.alloc(0), next: from };
    const next = from + frames.length;
    this.noteHead(next, frames.at(-1)!.includes(END_FIELD));
    return { data: frames.length === 1 ? frames[0]! : Buffer.concat(frames), next };
  }

  bytesAfter(from: number): number {
    return (this.headNumber - from) * TYPICAL_FRAME_BYTES;
  }
}
