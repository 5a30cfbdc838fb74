import { describeNetworkError, readErrorBody } from '../http-failure.js';

/** What one connection to the global stream showed, times in ms since the request was sent. */
export interface StreamObservation {
  /** Null when no answer (not even headers) came within the watch, or the request failed. */
  readonly status: number | null;
  /** Why there was no answer: a system error code, or 'timeout'. */
  readonly failure: string | null;
  readonly headersAtMs: number | null;
  readonly contentType: string | null;
  readonly contentEncoding: string | null;
  /** The error body of an answer that is not 200. */
  readonly error: { code: string; message: string } | null;
  /** The first bytes of the body (up to 16 characters), and when they came. */
  readonly firstBytes: string | null;
  readonly firstBytesAtMs: number | null;
  /** When each heartbeat comment arrived. */
  readonly pingAtMs: readonly number[];
  /** When the other side ended the stream during the watch; null when it stayed open. */
  readonly closedAtMs: number | null;
  /** How long it was watched. */
  readonly watchedMs: number;
}

/** Where and how long to watch. */
export interface ObserveStreamOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole watch, from the request on. */
  readonly waitMs: number;
  /** Stop early once this many heartbeats came: enough to judge them. */
  readonly enoughPings: number;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

/**
 * Opens the stream as a browser would (asking for compression, as browsers do) and notes
 * when the headers, the first bytes and each heartbeat arrive, then lets it go.
 */
export async function observeStream(options: ObserveStreamOptions): Promise<StreamObservation> {
  const now = options.now ?? (() => performance.now());
  const startMs = now();
  const since = () => Math.round(now() - startMs);
  const watch = new AbortController();
  const timer = setTimeout(() => watch.abort(), options.waitMs);
  const signal = AbortSignal.any([options.signal, watch.signal]);
  const seen = {
    status: null as number | null,
    failure: null as string | null,
    headersAtMs: null as number | null,
    contentType: null as string | null,
    contentEncoding: null as string | null,
    error: null as { code: string; message: string } | null,
    firstBytes: null as string | null,
    firstBytesAtMs: null as number | null,
    pingAtMs: [] as number[],
    closedAtMs: null as number | null,
  };
  try {
    let response: Response;
    try {
      response = await fetch(options.url, {
        headers: { Accept: 'text/event-stream', 'Accept-Encoding': 'gzip, deflate, br', 'Cache-Control': 'no-cache', ...options.headers },
        signal,
      });
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      seen.failure = watch.signal.aborted ? 'timeout' : describeNetworkError(error);
      return { ...seen, watchedMs: since() };
    }
    seen.status = response.status;
    seen.headersAtMs = since();
    seen.contentType = response.headers.get('Content-Type');
    seen.contentEncoding = response.headers.get('Content-Encoding');
    if (response.status !== 200 || !response.body) {
      seen.error = readErrorBody(await response.text().catch(() => ''));
      return { ...seen, watchedMs: since() };
    }
    await readBody(response.body, seen, since, options.enoughPings);
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    // The watch ran out while reading: that is how a watch normally ends.
    if (!watch.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    watch.abort(); // lets the stream's slot go
  }
  return { ...seen, watchedMs: since() };
}

/** Reads until enough heartbeats came or the stream ends; the watch's abort ends it otherwise. */
async function readBody(
  body: ReadableStream<Uint8Array>,
  seen: { firstBytes: string | null; firstBytesAtMs: number | null; pingAtMs: number[]; closedAtMs: number | null },
  since: () => number,
  enoughPings: number,
): Promise<void> {
  const decoder = new TextDecoder();
  let partialLine = '';
  for await (const chunk of body) {
    const atMs = since();
    const text = decoder.decode(chunk, { stream: true });
    if (seen.firstBytes === null && text.length > 0) {
      seen.firstBytes = text.slice(0, 16);
      seen.firstBytesAtMs = atMs;
    }
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    // A comment line (`: ping ...`) is the heartbeat; events are other lines.
    for (const line of lines) if (line.startsWith(':')) seen.pingAtMs.push(atMs);
    if (seen.pingAtMs.length >= enoughPings) return;
  }
  seen.closedAtMs = since();
}
