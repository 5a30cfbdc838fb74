/**
 * Parses every line event of one sampled reader: measures its delivery latency (the bench's
 * build prints `~<seq> <hrtime ns> ...`, and CLOCK_MONOTONIC is shared by the processes of
 * one machine, so receive time minus that stamp is the time through the server) and checks
 * that the sequence numbers follow each other with no gap and no repeat. Only a sample of
 * the readers pays for this.
 */
export class LatencySampler {
  private pending = '';
  /** The last sequence number seen (= events received, when there is no error). */
  last = 0;
  /** Lines whose number was not the previous one plus 1. */
  sequenceErrors = 0;

  constructor(private readonly sink: LatencySink) {}

  /** Takes a chunk received at `receivedNs`. */
  push(chunk: Buffer, receivedNs: bigint): void {
    // latin1: the numbers are ASCII, and a byte-per-char decode never fails on a split character.
    const data = this.pending + chunk.toString('latin1');
    const lastBreak = data.lastIndexOf('\n\n');
    if (lastBreak === -1) {
      this.pending = data;
      return;
    }
    this.pending = data.slice(lastBreak + 2);
    for (let at = data.indexOf('~'); at !== -1 && at < lastBreak; at = data.indexOf('~', at + 1)) {
      const seqEnd = data.indexOf(' ', at + 1);
      if (seqEnd === -1 || !isDigits(data, at + 1, seqEnd)) continue;
      const seq = Number(data.slice(at + 1, seqEnd));
      if (seq !== this.last + 1) this.sequenceErrors += 1;
      this.last = seq;
      // A line the server sent in two events (a partial line flushed while the rest was on
      // its way) has no whole stamp: it counts, but gives no latency.
      const stampEnd = data.indexOf(' ', seqEnd + 1);
      if (stampEnd !== -1 && isDigits(data, seqEnd + 1, stampEnd)) this.sink.add(Number(receivedNs - BigInt(data.slice(seqEnd + 1, stampEnd))) / 1e6);
    }
  }
}

function isDigits(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > 20) return false;
  for (let i = from; i < to; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** A growable array of latency samples in ms. */
export class LatencySink {
  private values = new Float64Array(1 << 16);
  length = 0;

  add(valueMs: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = valueMs;
    this.length += 1;
  }

  /** The samples so far, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }

  clear(): void {
    this.length = 0;
  }
}
