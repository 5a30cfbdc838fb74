/** One line of a command's output, as the `log` event carries it. */
export interface OutputLine {
  /** The line without its `\n` (a `\r` before it is output, and stays). */
  readonly text: string;
  /** Whether a `\n` ended the line; false for a partial or split-up line. */
  readonly eol: boolean;
}

/** The contract's limit: a longer line goes out as several events. */
export const MAX_LINE_BYTES = 65536;

/**
 * Turns a byte stream into lines, exactly: joining `text + (eol ? '\n' : '')` over every line
 * it returns gives back the stream decoded as UTF-8 (invalid bytes become U+FFFD, and a
 * character split across chunks stays whole). Pure: no timers, no clock; the caller decides
 * when a held-back partial line is flushed.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private isEnded = false;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {
    if (maxLineBytes < 4) throw new Error('maxLineBytes must hold at least one character');
  }

  /** Whether some text is held back, waiting for the rest of its line. */
  get hasPartialLine(): boolean {
    return this.pending !== '';
  }

  /** The lines that this chunk completes; a trailing partial line is held back. */
  push(chunk: Uint8Array): OutputLine[] {
    if (this.isEnded) throw new Error('push after end');
    return this.take(this.decoder.decode(chunk, { stream: true }));
  }

  /** The held-back partial line as an `eol: false` line, so that it is not delayed forever. */
  flush(): OutputLine[] {
    if (this.pending === '') return [];
    const line = { text: this.pending, eol: false };
    this.pending = '';
    return [line];
  }

  /** The end of the stream: whatever is left, including a truncated character (as U+FFFD). */
  end(): OutputLine[] {
    if (this.isEnded) return [];
    this.isEnded = true;
    const lines = this.take(this.decoder.decode());
    return lines.concat(this.flush());
  }

  private take(text: string): OutputLine[] {
    const lines: OutputLine[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline), lines);
      lines.push({ text: this.pending, eol: true });
      this.pending = '';
      start = newline + 1;
    }
    if (start < text.length) this.append(text.slice(start), lines);
    return lines;
  }

  /** Adds text to the partial line, sending full-size pieces of an over-long line as it grows. */
  private append(text: string, lines: OutputLine[]): void {
    const combined = this.pending + text;
    // A UTF-16 code unit is at most 3 bytes of UTF-8, so short text needs no byte count.
    if (combined.length * 3 <= this.maxLineBytes) {
      this.pending = combined;
      return;
    }
    const bytes = Buffer.from(combined, 'utf8');
    let from = 0;
    while (bytes.length - from > this.maxLineBytes) {
      let cut = from + this.maxLineBytes;
      while ((bytes[cut]! & 0xc0) === 0x80) cut -= 1; // never cut inside a character
      lines.push({ text: bytes.toString('utf8', from, cut), eol: false });
      from = cut;
    }
    this.pending = from === 0 ? combined : bytes.toString('utf8', from);
  }
}
