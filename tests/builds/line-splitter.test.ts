import { LineSplitter, MAX_LINE_BYTES, type OutputLine } from '../../src/builds/line-splitter.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** What the contract says a reader rebuilds from the events. */
const rebuild = (lines: readonly OutputLine[]) => lines.map((l) => l.text + (l.eol ? '\n' : '')).join('');

/** Feeds chunks, then ends the stream; returns every line. */
function splitAll(chunks: readonly Uint8Array[], maxLineBytes?: number): OutputLine[] {
  const splitter = new LineSplitter(maxLineBytes);
  return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.end()];
}

describe('LineSplitter', () => {
  it('splits on newlines and marks each line as ended by one', () => {
    expect(splitAll([bytes('one\ntwo\n')])).toEqual([
      { text: 'one', eol: true },
      { text: 'two', eol: true },
    ]);
  });

  it('keeps empty lines', () => {
    expect(splitAll([bytes('a\n\n\nb\n')]).map((l) => l.text)).toEqual(['a', '', '', 'b']);
  });

  it('keeps the \\r of a CRLF line ending in the text, so the output is rebuilt exactly', () => {
    const lines = splitAll([bytes('crlf line\r'), bytes('\nnext\r\n')]);
    expect(lines).toEqual([
      { text: 'crlf line\r', eol: true },
      { text: 'next\r', eol: true },
    ]);
  });

  it('treats a lone \\r as part of the line (a redrawn progress bar)', () => {
    expect(splitAll([bytes('10%\r50%\r100%\n')])).toEqual([{ text: '10%\r50%\r100%', eol: true }]);
  });

  it('keeps NUL and escape sequences as they are', () => {
    expect(splitAll([bytes('a\u0000b\n\x1b[31mred\x1b[0m\n')]).map((l) => l.text)).toEqual(['a\u0000b', '\x1b[31mred\x1b[0m']);
  });

  it('holds a partial line back until its newline arrives', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes('hel'))).toEqual([]);
    expect(splitter.hasPartialLine).toBe(true);
    expect(splitter.push(bytes('lo\nwor'))).toEqual([{ text: 'hello', eol: true }]);
    expect(splitter.end()).toEqual([{ text: 'wor', eol: false }]);
  });

  it('flushes a held-back partial line as eol:false and starts the next event after it', () => {
    const splitter = new LineSplitter();
    splitter.push(bytes('Password: '));
    expect(splitter.flush()).toEqual([{ text: 'Password: ', eol: false }]);
    expect(splitter.hasPartialLine).toBe(false);
    expect(splitter.flush()).toEqual([]);
    expect(splitter.push(bytes('ok\n'))).toEqual([{ text: 'ok', eol: true }]);
  });

  it('keeps a character whole when its bytes are split across chunks', () => {
    const whole = bytes('héllo 世界 🎉\n');
    const chunks = [...whole].map((byte) => Uint8Array.of(byte)); // one byte per chunk
    expect(splitAll(chunks)).toEqual([{ text: 'héllo 世界 🎉', eol: true }]);
  });

  it('does not flush half a character: it waits in the decoder for the rest', () => {
    const splitter = new LineSplitter();
    const emoji = bytes('🎉');
    splitter.push(Buffer.concat([bytes('x'), emoji.subarray(0, 2)]));
    expect(splitter.flush()).toEqual([{ text: 'x', eol: false }]);
    expect(splitter.push(emoji.subarray(2))).toEqual([]);
    expect(splitter.end()).toEqual([{ text: '🎉', eol: false }]);
  });

  it('turns invalid bytes into U+FFFD, as TextDecoder does for the whole output', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x41, 0x0a, 0xc3]); // ends with a truncated character
    expect(rebuild(splitAll([raw]))).toBe(new TextDecoder().decode(raw));
    expect(rebuild(splitAll([raw]))).toBe('\uFFFD\uFFFDA\n\uFFFD');
  });

  it('sends a line over the byte limit as pieces of at most the limit, all but the last eol:false', () => {
    const line = 'x'.repeat(MAX_LINE_BYTES * 2 + 10);
    const lines = splitAll([bytes(`${line}\n`)]);
    expect(lines.map((l) => [Buffer.byteLength(l.text), l.eol])).toEqual([
      [MAX_LINE_BYTES, false],
      [MAX_LINE_BYTES, false],
      [10, true],
    ]);
    expect(rebuild(lines)).toBe(`${line}\n`);
  });

  it('sends a line of exactly the limit as one event', () => {
    const line = 'y'.repeat(MAX_LINE_BYTES);
    expect(splitAll([bytes(`${line}\n`)])).toEqual([{ text: line, eol: true }]);
  });

  it('never cuts a multi-byte character when splitting a long line', () => {
    const line = '€'.repeat(40); // 3 bytes each: 120 bytes
    const lines = splitAll([bytes(line)], 16);
    for (const piece of lines) {
      expect(Buffer.byteLength(piece.text)).toBeLessThanOrEqual(16);
      expect(piece.text).toMatch(/^€+$/);
    }
    expect(rebuild(lines)).toBe(line);
  });

  it('splits a long line that arrives in many chunks', () => {
    const line = 'abcdefghij'.repeat(20000); // 200,000 bytes
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 25000) chunks.push(bytes(line.slice(i, i + 25000)));
    const lines = splitAll([...chunks, bytes('\n')]);
    expect(lines.every((l) => Buffer.byteLength(l.text) <= MAX_LINE_BYTES)).toBe(true);
    expect(lines.at(-1)!.eol).toBe(true);
    expect(rebuild(lines)).toBe(`${line}\n`);
  });

  it('rebuilds any byte sequence exactly, whatever the chunking (seeded)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = [...bytes('ab\n\r é世🎉'), 0xff, 0x80, 0xc3, 0x00];
    for (let round = 0; round < 200; round += 1) {
      const raw = Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => alphabet[Math.floor(random() * alphabet.length)]!));
      const chunks: Buffer[] = [];
      for (let at = 0; at < raw.length; ) {
        const size = 1 + Math.floor(random() * 20);
        chunks.push(raw.subarray(at, at + size));
        at += size;
      }
      const splitter = new LineSplitter(8);
      const lines: OutputLine[] = [];
      for (const chunk of chunks) {
        lines.push(...splitter.push(chunk));
        if (random() < 0.3) lines.push(...splitter.flush());
      }
      lines.push(...splitter.end());
      expect(rebuild(lines)).toBe(new TextDecoder().decode(raw));
      for (const line of lines) {
        expect(line.text.includes('\n')).toBe(false);
        expect(Buffer.byteLength(line.text)).toBeLessThanOrEqual(8);
      }
    }
  });
});
