/** One event frame found in a history file. */
export interface ParsedFrame {
  readonly id: string;
  readonly event: string;
  readonly data: string;
  /** Byte offset of the frame's end (after its blank line), relative to where parsing began. */
  readonly end: number;
}

const SEPARATOR = Buffer.from('\n\n');

/**
 * Parses the frames that our own encodeFrame wrote back to back (`id`, `event`, one `data`
 * line, a blank line). It stops at the first incomplete or malformed frame and says where,
 * so a torn or corrupt tail can be cut off.
 */
export class FrameParser {
  private carry: Buffer = Buffer.alloc(0);
  private consumed = 0;
  /** Set when a frame did not have our shape; parsing stops there. */
  malformedAt: number | null = null;

  /** Feeds the next bytes; returns the frames they complete. */
  push(bytes: Buffer): ParsedFrame[] {
    if (this.malformedAt !== null) return [];
    const buffer = this.carry.length === 0 ? bytes : Buffer.concat([this.carry, bytes]);
    const frames: ParsedFrame[] = [];
    let start = 0;
    for (let sep = buffer.indexOf(SEPARATOR, start); sep !== -1; sep = buffer.indexOf(SEPARATOR, start)) {
      const frame = parseFrame(buffer.toString('utf8', start, sep));
      if (!frame) {
        this.malformedAt = this.consumed + start;
        this.carry = Buffer.alloc(0);
        return frames;
      }
      frames.push({ ...frame, end: this.consumed + sep + 2 });
      start = sep + 2;
    }
    this.consumed += start;
    this.carry = Buffer.from(buffer.subarray(start));
    return frames;
  }

  /** Bytes after the last complete frame (a torn write, when the input has ended). */
  get pendingBytes(): number {
    return this.carry.length;
  }
}

function parseFrame(text: string): Omit<ParsedFrame, 'end'> | null {
  const lines = text.split('\n');
  if (lines.length !== 3) return null;
  const [idLine, eventLine, dataLine] = lines as [string, string, string];
  if (!idLine.startsWith('id: ') || !eventLine.startsWith('event: ') || !dataLine.startsWith('data: ')) return null;
  return { id: idLine.slice(4), event: eventLine.slice(7), data: dataLine.slice(6) };
}

/**
 * The last whole frame of bytes that end at a frame's end (a file's tail, say); null when it
 * does not fit in them. `startsAtFrame`: the bytes begin at a frame (the file's start).
 */
export function lastWholeFrame(bytes: Buffer, startsAtFrame: boolean): ParsedFrame | null {
  if (bytes.length < 2 || !bytes.subarray(-2).equals(SEPARATOR)) return null;
  // The last frame starts after the blank line that ends the frame before it.
  const previousEnd = bytes.lastIndexOf(SEPARATOR, bytes.length - 3);
  if (previousEnd === -1 && !startsAtFrame) return null;
  return new FrameParser().push(bytes.subarray(previousEnd === -1 ? 0 : previousEnd + 2)).at(-1) ?? null;
}
