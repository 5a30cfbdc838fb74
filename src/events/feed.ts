/**
 * A feed is the append-only byte sequence of one SSE stream: the global stream, or one
 * build's stream. Positions are byte offsets into it; a reader replays from an offset up to
 * the head, then follows what the event log appends.
 */
export interface Feed {
  /** GLOBAL_FEED, or the build id. */
  readonly key: string;
  /** The offset just after the last event appended so far. */
  head(): number;
  /** True once nothing more will be appended (a build's `end` is in). */
  isComplete(): boolean;
  /** Whether bytes from this offset are still kept (the global history is bounded). */
  isKept(from: number): boolean;
  /** Up to maxBytes from offset `from` (fewer at the head), or null when no longer kept. */
  read(from: number, maxBytes: number): Promise<Buffer | null>;
}

export const GLOBAL_FEED = '*';

/** What one flush appended to one feed, handed to the pool so it can write it to live readers. */
export interface FeedAppend {
  readonly feed: string;
  readonly from: number;
  readonly data: Buffer;
  /** Whether the feed is complete after this data. */
  readonly isFinal: boolean;
}
