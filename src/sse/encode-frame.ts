/** The fields of one Server-Sent Event. */
export interface Frame {
  readonly id: string;
  readonly event: string;
  /** Must not contain a line break: see encodeFrame. */
  readonly data: string;
}

const LINE_BREAK = /[\r\n]/;

/**
 * Encodes one event as its exact bytes on the wire. Our data is always JSON, which escapes
 * every line break, so it fits one `data:` line; a raw break would let output forge fields
 * (EventSource starts a new field at any CR or LF and dispatches on a blank line).
 */
export function encodeFrame({ id, event, data }: Frame): string {
  if (LINE_BREAK.test(id)) throw new Error('an SSE field must not contain a line break');
  return `id: ${id}\n${encodeFrameBody({ event, data })}`;
}

/**
 * A frame without its `id:` line, which a cluster's Redis puts in front when it assigns the
 * id (the bytes are then those of encodeFrame).
 */
export function encodeFrameBody({ event, data }: Omit<Frame, 'id'>): string {
  if (LINE_BREAK.test(event) || LINE_BREAK.test(data)) throw new Error('an SSE field must not contain a line break');
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** The `retry:` field that tells EventSource how long to wait before reconnecting. */
export function encodeRetry(retryMs: number): string {
  return `retry: ${retryMs}\n\n`;
}

/** A comment line: ignored by EventSource, it keeps idle connections and proxies alive. */
export function encodeComment(text: string): string {
  if (LINE_BREAK.test(text)) throw new Error('an SSE comment must not contain a line break');
  return `: ${text}\n\n`;
}
