import { parseEventId } from './event-id.js';

/** The bytes a FrameLocator searches: a build's history, read in aligned chunks. */
export interface ChunkedBytes {
  /** The end of the last whole frame. */
  head(): number;
  /** Up to maxBytes from `from`, never past the end of the chunk that holds `from`; null when unreadable. */
  read(from: number, maxBytes: number): Promise<Buffer | null>;
  /** As read(), but a chunk that is not in memory is not loaded whole: only these bytes are read. */
  peek(from: number, maxBytes: number): Promise<Buffer | null>;
}

/** One frame found in a history: where it starts and ends, and what its id says. */
export interface LocatedFrame {
  readonly start: number;
  readonly end: number;
  /** The event's position in its build (`n` of the id). */
  readonly position: number;
  readonly globalNumber: number;
  readonly event: string;
}

/** The first frame that starts in a chunk (after its first blank line), as the sparse index keeps it. */
interface ChunkEntry {
  readonly start: number;
  readonly position: number;
}

const LF = 0x0a;
const SEPARATOR = Buffer.from('\n\n');
const ID_PREFIX = Buffer.from('id: ');
/** `id: ` + an id of at most 64 characters + `\n`, with room to spare. */
const ID_LINE_BYTES = 128;
/** `event: ` + the longest name we write + `\n`. */
const HEADER_BYTES = ID_LINE_BYTES + 32;
/** Bytes a probe reads at a time: a few frames, where a whole chunk would be thousands. */
const PROBE_BYTES = 16 << 10;

/** Called for each frame found; `header` parses its id (lazily: most frames are only counted). */
type FrameVisitor = (start: number, end: number, header: () => LocatedFrame) => boolean;

/**
 * Finds frames in a build's history without reading it all: ids are `<boot>-<g>-<n>` where n
 * (the event's position in the build) strictly increases through the file, and a frame never
 * holds a blank line but its last, so a blank line always ends a frame. A resume into any
 * position is then a binary search over chunks (each probe reads a few KiB: the first frame that
 * starts in that chunk) and a scan of at most about one chunk, which counts frames and parses
 * one id, whatever the history's size (issue 8).
 *
 * The sparse index keeps one entry per chunk probed, so memory is bounded by the history's
 * size over the chunk size, never by its number of events. Entries never go stale: a history
 * only grows (a cut happens before any reader exists, when it is opened).
 */
export class FrameLocator {
  private readonly entries = new Map<number, ChunkEntry>();

  constructor(
    private readonly bytes: ChunkedBytes,
    private readonly chunkBytes: number,
  ) {}

  /** Entries held in the sparse index (at most one per chunk). */
  get indexSize(): number {
    return this.entries.size;
  }

  /** The frame at this position of the build, or null when none has it (made up, or beyond the newest). */
  async find(position: number): Promise<LocatedFrame | null> {
    const head = this.bytes.head();
    if (!Number.isSafeInteger(position) || position < 1 || head === 0) return null;
    let from: ChunkEntry | null = null;
    let lo = 0;
    let hi = Math.floor((head - 1) / this.chunkBytes);
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entry = await this.entryOf(mid, head);
      if (entry !== null && entry.position <= position) {
        from = entry;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (from === null) return null;
    // Positions are consecutive in a history we wrote: count frames, parse only the one wanted.
    const skip = position - from.position;
    let counted = 0;
    let found: LocatedFrame | null = null;
    await this.scan(from.start, head, (_start, _end, header) => {
      if (counted++ < skip) return true;
      found = header();
      return false;
    });
    if (found !== null && (found as LocatedFrame).position === position) return found;
    return this.findByParsing(from.start, head, position);
  }

  /** The last whole frame before `head`, or null when the history is empty or its last frame is not ours. */
  async last(head: number): Promise<LocatedFrame | null> {
    if (head < 2) return null;
    const previousEnd = await this.lastSeparatorAtOrBefore(head - 3);
    const start = previousEnd === -1 ? 0 : previousEnd + 2;
    return this.frameAt(start, head);
  }

  /** Where the last blank line before `end` (exclusive) ends: the end of the last whole frame; 0 when none. */
  async lastFrameEnd(end: number): Promise<number> {
    const separator = await this.lastSeparatorAtOrBefore(end - 2);
    return separator === -1 ? 0 : separator + 2;
  }

  /** The slow way, for a history with frames that are not ours (a corrupt file): parse each id. */
  private async findByParsing(start: number, head: number, position: number): Promise<LocatedFrame | null> {
    let found: LocatedFrame | null = null;
    await this.scan(start, head, (_start, _end, header) => {
      const frame = header();
      if (frame.position < position) return true;
      if (frame.position === position) found = frame;
      return false;
    });
    return found;
  }

  /** The sparse index's entry for a chunk: chunk 0 starts with a frame; others, after their first blank line. */
  private async entryOf(chunk: number, head: number): Promise<ChunkEntry | null> {
    const known = this.entries.get(chunk);
    if (known) return known;
    let start = 0;
    if (chunk > 0) {
      const separator = await this.firstSeparatorFrom(chunk * this.chunkBytes, head);
      if (separator === -1 || separator + 2 >= head) return null;
      start = separator + 2;
    }
    let entry: ChunkEntry | null = null;
    const first = parseHeader(await this.readSpan(start, Math.min(HEADER_BYTES, head - start), 'peek'), 0, start, start);
    if (first.position > 0) entry = { start, position: first.position };
    else {
      // A frame that is not ours (a corrupt file): step over it to the next one that is.
      await this.scan(start, head, (_start, _end, header) => {
        const frame = header();
        if (frame.position < 1) return true;
        entry = { start: frame.start, position: frame.position };
        return false;
      });
    }
    // Only what is found is kept: a chunk without a frame yet may get one as the build grows.
    if (entry !== null) this.entries.set(chunk, entry);
    return entry;
  }

  /**
   * Walks the frames from `start` (a frame's start) up to `head`, chunk by chunk, until
   * visit returns false. A frame that is not ours parses with position 0.
   */
  private async scan(start: number, head: number, visit: FrameVisitor): Promise<void> {
    let carry: Buffer | null = null;
    let carryStart = start;
    let position = start;
    while (position < head) {
      const bytes = await this.bytes.read(position, Math.min(this.chunkBytes, head - position));
      if (bytes === null || bytes.length === 0) return;
      const buffer: Buffer = carry === null ? bytes : Buffer.concat([carry, bytes]);
      const bufferStart = carry === null ? position : carryStart;
      position += bytes.length;
      let at = 0;
      for (let separator = buffer.indexOf(SEPARATOR, at); separator !== -1; separator = buffer.indexOf(SEPARATOR, at)) {
        const frameAt = at;
        const end = bufferStart + separator + 2;
        if (!visit(bufferStart + at, end, () => parseHeader(buffer, frameAt, bufferStart + frameAt, end))) return;
        at = separator + 2;
      }
      // A frame that goes on in the next chunk: keep its start (a frame is far smaller than a chunk).
      carry = at === buffer.length ? null : buffer.subarray(at);
      carryStart = bufferStart + at;
    }
  }

  /** The frame from `start` to `end`, when it is ours. */
  private async frameAt(start: number, end: number): Promise<LocatedFrame | null> {
    const header = await this.readSpan(start, Math.min(HEADER_BYTES, end - start), 'read');
    const frame = parseHeader(header, 0, start, end);
    return frame.position === 0 ? null : frame;
  }

  /** Bytes from `from`, across a chunk boundary if need be. */
  private async readSpan(from: number, length: number, how: 'read' | 'peek'): Promise<Buffer> {
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < length) {
      const part = await this.bytes[how](from + taken, length - taken);
      if (part === null || part.length === 0) break;
      parts.push(part);
      taken += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Offset of the first `\n\n` that begins at or after `from` (and ends before head); -1 when none. */
  private async firstSeparatorFrom(from: number, head: number): Promise<number> {
    let position = from;
    let isAfterLf = false;
    while (position < head) {
      const bytes = await this.bytes.peek(position, Math.min(PROBE_BYTES, head - position));
      if (bytes === null || bytes.length === 0) return -1;
      if (isAfterLf && bytes[0] === LF) return position - 1;
      const at = bytes.indexOf(SEPARATOR);
      if (at !== -1) return position + at;
      isAfterLf = bytes[bytes.length - 1] === LF;
      position += bytes.length;
    }
    return -1;
  }

  /** Offset of the last `\n\n` that begins at or before `limit`; -1 when none. */
  private async lastSeparatorAtOrBefore(limit: number): Promise<number> {
    let chunk = Math.floor(limit / this.chunkBytes);
    let searchTo = limit;
    // The byte after the searched range, once known: a separator may begin on a chunk's last byte.
    let following: number | undefined;
    while (chunk >= 0) {
      const chunkStart = chunk * this.chunkBytes;
      const bytes = await this.bytes.read(chunkStart, this.chunkBytes);
      if (bytes === null || bytes.length === 0) return -1;
      const lastIndex = Math.min(bytes.length - 1, searchTo - chunkStart);
      if (lastIndex === bytes.length - 1 && bytes[lastIndex] === LF) {
        following ??= (await this.bytes.read(chunkStart + bytes.length, 1))?.[0];
        if (following === LF) return chunkStart + lastIndex;
      }
      const at = bytes.lastIndexOf(SEPARATOR, lastIndex);
      if (at !== -1) return chunkStart + at;
      following = bytes[0];
      searchTo = chunkStart - 1;
      chunk -= 1;
    }
    return -1;
  }
}

/** Reads the id and event name at the start of a frame; position 0 when it is not one of ours. */
function parseHeader(buffer: Buffer, at: number, start: number, end: number): LocatedFrame {
  const notOurs = { start, end, position: 0, globalNumber: 0, event: '' };
  if (buffer.compare(ID_PREFIX, 0, ID_PREFIX.length, at, at + ID_PREFIX.length) !== 0) return notOurs;
  const idEnd = buffer.indexOf(LF, at);
  if (idEnd === -1 || idEnd - at > ID_LINE_BYTES) return notOurs;
  const id = parseEventId(buffer.toString('latin1', at + ID_PREFIX.length, idEnd));
  const eventEnd = buffer.indexOf(LF, idEnd + 1);
  if (!id || id.build < 1 || eventEnd === -1 || !buffer.toString('latin1', idEnd + 1, idEnd + 8).startsWith('event: ')) return notOurs;
  return { start, end, position: id.build, globalNumber: id.global, event: buffer.toString('latin1', idEnd + 8, eventEnd) };
}
