import type { Feed } from './feed.js';
import { FrameParser, type ParsedFrame } from './frame-parser.js';

const READ_BYTES = 256 << 10;

/** The frames of a feed from its start up to `end`, a batch per read, for rendering a whole log. */
export async function* readFeedFrames(feed: Feed, end: number): AsyncGenerator<ParsedFrame[]> {
  const parser = new FrameParser();
  let position = 0;
  while (position < end) {
    const slice = await feed.readSlice(position, READ_BYTES);
    if (slice === null || slice.data.length === 0) return;
    position = slice.next;
    const frames = parser.push(slice.data);
    if (frames.length > 0) yield frames;
    if (parser.malformedAt !== null) return;
  }
}
