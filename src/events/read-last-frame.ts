import fs from 'node:fs';
import { FrameParser, type ParsedFrame } from './frame-parser.js';

/** Enough for any `build` or `end` frame; a larger last frame is a log line. */
const TAIL_BYTES = 64 << 10;

/**
 * The last whole frame of a history file, read from its tail only (so that checking every
 * build at start-up stays cheap); null when the file is missing, empty, torn, or its last
 * frame is larger than the tail read.
 */
export async function readLastFrame(file: string): Promise<ParsedFrame | null> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    if (length < 2 || buffer[length - 1] !== 0x0a || buffer[length - 2] !== 0x0a) return null;
    // The last frame starts after the blank line that ends the frame before it.
    const body = buffer.subarray(0, length - 2);
    const previousEnd = body.lastIndexOf('\n\n');
    if (previousEnd === -1 && length < size) return null;
    const frames = new FrameParser().push(buffer.subarray(previousEnd === -1 ? 0 : previousEnd + 2));
    return frames.at(-1) ?? null;
  } finally {
    await handle.close();
  }
}
