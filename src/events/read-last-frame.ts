import fs from 'node:fs';
import { lastWholeFrame, type ParsedFrame } from './frame-parser.js';

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
    return lastWholeFrame(buffer, length === size);
  } finally {
    await handle.close();
  }
}
