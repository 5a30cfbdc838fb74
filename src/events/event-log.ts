import type { EventDataByName } from './event-data.js';
import type { Feed, FeedAppend } from './feed.js';

/** The events a build appends (`reset` is never appended: a stream sends it when it cannot resume). */
export type StreamEventName = Exclude<keyof EventDataByName, 'reset'>;

/**
 * An event to send: `log` and `build` go to the global stream and the build's stream, `end` to
 * the build's only. Its data has the type its name calls for (a union over the names).
 */
export type NewEvent<E extends StreamEventName = StreamEventName> = {
  readonly [K in E]: { readonly buildId: string; readonly event: K; readonly data: EventDataByName[K] };
}[E];

/** Where a new SSE connection starts reading, and what it must be sent first. */
export interface StreamStart {
  readonly feed: Feed;
  readonly from: number;
  /** A `reset` frame to send before the history, when the client's id could not be used. */
  readonly preamble: string | null;
  /** Detaches the reader; call once, when the connection closes. */
  release(): void;
}

/** A ?build= client reconnecting after that build's `end`: answered with 204. */
export interface StreamFinished {
  readonly isFinished: true;
}

/**
 * What the HTTP side reads: where a new or reconnecting client starts, and what is appended
 * after that. One process's files (LocalEventLog) or a cluster's Redis (ClusterEventLog).
 * What a running build writes goes through a BuildEventWriter (build-event-writer.ts).
 */
export interface EventStreams {
  /** Called with what was appended to each feed, in order. */
  onAppend(listener: (appends: readonly FeedAppend[]) => void): () => void;
  openGlobalStream(lastEventId: string | null): StreamStart | Promise<StreamStart>;
  openBuildStream(buildId: string, lastEventId: string | null): Promise<StreamStart | StreamFinished>;
  /** Events appended (or, in a cluster, seen) so far (for metrics). */
  readonly eventsAppended: number;
  close(): void;
}
