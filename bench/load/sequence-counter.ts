/** The first byte of every line the bench's build prints: `~<seq> <hrtime ns> ...`. */
export const LINE_START = 0x7e; // '~'
const SPACE = 0x20;
/** Longer than `~` + the longest sequence number + its space, so a number split by a read boundary is found. */
const TAIL_BYTES = 24;

/**
 * Counts a reader's events from the sequence number of the last line it received: the lines
 * are numbered from 1 and a stream delivers them in order, so the last number seen is the
 * count. Only the end of each chunk is looked at, which is what lets one process follow a
 * thousand streams of 5,000 events/s; the sampled readers parse every event and check that
 * the numbers have no gap (see LatencySampler).
 */
export class SequenceCounter {
  private tail = '';
  last = 0;

  push(chunk: Buffer): void {
    const inChunk = lastSequence(chunk);
    if (inChunk !== null) this.last = inChunk;
    else {
      // No whole number in this chunk: one may start in the previous chunk's tail.
      const spanning = lastSequence(Buffer.from(this.tail + chunk.toString('latin1', 0, Math.min(chunk.length, TAIL_BYTES)), 'latin1'));
      if (spanning !== null && spanning > this.last) this.last = spanning;
    }
    this.tail = chunk.length >= TAIL_BYTES ? chunk.toString('latin1', chunk.length - TAIL_BYTES) : (this.tail + chunk.toString('latin1')).slice(-TAIL_BYTES);
  }
}

/** The number after the last `~` that is followed by digits and a space, or null. */
function lastSequence(data: Buffer): number | null {
  for (let at = data.lastIndexOf(LINE_START); at !== -1; at = at > 0 ? data.lastIndexOf(LINE_START, at - 1) : -1) {
    let value = 0;
    let i = at + 1;
    for (; i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39; i += 1) value = value * 10 + (data[i]! - 0x30);
    if (i > at + 1 && i < data.length && data[i] === SPACE) return value;
  }
  return null;
}
