/**
 * A feed is the append-only sequence of frames of one SSE stream: the global stream, or one
 * build's stream. A reader replays from a position up to the head, then follows what the
 * event log appends. What a position counts is the feed's own affair: bytes for the files of
 * one process (see ByteFeed), events for a cluster's Redis; readers only compare positions and
 * take the ones a feed hands them.
 */
export interface Feed {
  /** GLOBAL_FEED, or the build id. */
  readonly key: string;
  /** The position just after the last event appended so far. */
  head(): number;
  /** True once nothing more will be appended (a build's `end` is in). */
  isComplete(): boolean;
  /** Bytes from position `from`, about maxBytes (fewer at the head), and the position after them; null when no longer kept. */
  readSlice(from: number, maxBytes: number): Promise<FeedSlice | null>;
  /** About how many bytes lie between a position and the head (how far behind a reader is). */
  bytesAfter(from: number): number;
}

export interface FeedSlice {
  readonly data: Buffer;
  /** The position just after `data`. */
  readonly next: number;
}

/** A feed whose positions are byte offsets: a slice ends where its bytes do. */
export interface ByteFeed {
  head(): number;
  read(from: number, maxBytes: number): Promise<Buffer | null>;
}

export async function readByteSlice(feed: ByteFeed, from: number, maxBytes: number): Promise<FeedSlice | null> {
  const data = await feed.read(from, maxBytes);
  return data === null ? null : { data, next: from + data.length };
}

export const GLOBAL_FEED = '*';

/** What one flush appended to one feed, handed to the pool so it can write it to live readers. */
export interface FeedAppend {
  readonly feed: string;
  readonly from: number;
  /** The position after `data`. */
  readonly to: number;
  readonly data: Buffer;
  /** Whether the feed is complete after this data. */
  readonly isFinal: boolean;
}
