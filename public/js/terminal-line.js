/**
 * One line of terminal output as a terminal shows it: runs of text with the SGR state they
 * were written in, and a cursor. Only what line-oriented tools emit moves the cursor: `\r`,
 * backspace, `ESC[nG`, `ESC[nC`, `ESC[nD`; `ESC[K` erases (0: to the end, 1: to the start,
 * 2: the whole line). Text written over existing text replaces it cell by cell, as a
 * terminal does. Every other escape sequence (OSC, cursor up, private modes) is dropped, so
 * none ever shows as garbage. Colours are not interpreted here: the SGR sequences are kept
 * as they came and handed to ansi_up when the line is drawn (see line-html.js).
 */

/** The SGR state of no styling: shared, so that runs compare by reference. */
export const PLAIN = Object.freeze([]);

/** At most this many SGR sequences are kept in one state (a tool that never resets stays bounded). */
const MAX_SGR_PARAMS = 32;

/** An unfinished escape sequence longer than this is not one; it is dropped. */
const MAX_PENDING_CHARS = 256;

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const CSI = /\x1b\[([0-?]*)([ -/]*)([@-~])/y;
const CSI_PREFIX = /^\x1b\[[0-?]*[ -/]*$/;
const OSC_END = /\x07|\x1b\\/g;

/** The SGR state after one `ESC[<params>m`. States are immutable arrays of parameter strings. */
export function applySgr(state, params) {
  if (/^[0;]*$/.test(params)) return PLAIN; // ESC[m, ESC[0m, ESC[0;0m: reset
  if (/^0+;/.test(params)) return Object.freeze([params]); // starts with a reset
  const next = [...state, params];
  return Object.freeze(next.length > MAX_SGR_PARAMS ? next.slice(-MAX_SGR_PARAMS) : next);
}

/** The escape sequences that set a state from a reset one. */
export function sgrSequence(state) {
  let out = '';
  for (const params of state) out += `\x1b[${params}m`;
  return out;
}

/** One line's cells (as runs of equally styled text) and its cursor. */
export class TerminalLine {
  constructor() {
    /** @type {{text: string, style: readonly string[]}[]} */
    this.runs = [];
    this.length = 0;
    this.cursor = 0;
    this.textCache = '';
    this.ansiCache = null;
  }

  /** The characters shown, without styling (what search and copy see). */
  get text() {
    if (this.textCache === null) this.textCache = this.runs.map((run) => run.text).join('');
    return this.textCache;
  }

  /** The line as text plus SGR sequences only, starting from a reset state. */
  get ansi() {
    if (this.ansiCache !== null) return this.ansiCache;
    let out = '';
    let style = PLAIN;
    for (const run of this.runs) {
      if (run.style !== style) {
        if (style !== PLAIN) out += '\x1b[0m';
        out += sgrSequence(run.style);
        style = run.style;
      }
      out += run.text;
    }
    if (style !== PLAIN) out += '\x1b[0m';
    this.ansiCache = out;
    return out;
  }

  /** Writes printable text at the cursor, in a style, and moves the cursor past it. */
  put(text, style) {
    if (text === '') return;
    this.changed();
    if (this.cursor > this.length) this.appendRun(' '.repeat(this.cursor - this.length), PLAIN);
    if (this.cursor === this.length) {
      this.appendRun(text, style);
    } else {
      const end = this.cursor + text.length;
      this.runs = [...this.slice(0, this.cursor), { text, style }, ...this.slice(end, this.length)];
      this.length = Math.max(this.length, end);
      this.mergeRuns();
    }
    this.cursor += text.length;
  }

  /** `ESC[<mode>K`: 0 erases from the cursor to the end, 1 from the start to the cursor, 2 all. */
  erase(mode) {
    this.changed();
    if (mode === 2) {
      this.runs = [];
      this.length = 0;
    } else if (mode === 1) {
      const end = Math.min(this.cursor + 1, this.length);
      if (end > 0) {
        this.runs = [{ text: ' '.repeat(end), style: PLAIN }, ...this.slice(end, this.length)];
        this.mergeRuns();
      }
    } else if (this.cursor < this.length) {
      this.runs = this.slice(0, this.cursor);
      this.length = this.cursor;
    }
  }

  moveTo(column) {
    this.cursor = Math.max(0, column);
  }

  /** Runs covering [from, to), cut at both ends. */
  slice(from, to) {
    const out = [];
    let at = 0;
    for (const run of this.runs) {
      const end = at + run.text.length;
      if (end > from && at < to) out.push({ text: run.text.slice(Math.max(0, from - at), Math.min(run.text.length, to - at)), style: run.style });
      at = end;
      if (at >= to) break;
    }
    return out;
  }

  appendRun(text, style) {
    const last = this.runs[this.runs.length - 1];
    if (last && last.style === style) last.text += text;
    else this.runs.push({ text, style });
    this.length += text.length;
  }

  mergeRuns() {
    const merged = [];
    for (const run of this.runs) {
      if (run.text === '') continue;
      const last = merged[merged.length - 1];
      if (last && last.style === run.style) last.text += run.text;
      else merged.push({ text: run.text, style: run.style });
    }
    this.runs = merged;
  }

  changed() {
    this.textCache = null;
    this.ansiCache = null;
  }
}

/**
 * Interprets one output stream's text into TerminalLines. It keeps what carries over between
 * writes: the SGR state (a terminal keeps colours across line ends) and an escape sequence
 * cut in two by the server's partial-line flush.
 */
export class TerminalWriter {
  constructor() {
    this.style = PLAIN;
    this.pending = '';
  }

  /** Interprets `text` (no line breaks but maybe `\r`) onto `line`. */
  write(line, text) {
    if (this.pending !== '') {
      text = this.pending + text;
      this.pending = '';
    }
    // Fast path: most lines have no control character at all.
    if (!CONTROL.test(text)) {
      line.put(text, this.style);
      return;
    }
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code >= 0x20 && code !== 0x7f) {
        i += 1;
        continue;
      }
      if (code === 0x09) {
        i += 1;
        continue;
      }
      line.put(text.slice(start, i), this.style);
      const next = this.control(line, text, i);
      if (next === -1) {
        this.keepPending(text.slice(i));
        return;
      }
      i = next;
      start = i;
    }
    line.put(text.slice(start), this.style);
  }

  /** A line ended: an unfinished escape sequence cannot go on past it. */
  endLine() {
    this.pending = '';
  }

  /** Handles the control character at `i`; returns where text resumes, or -1 for "incomplete". */
  control(line, text, i) {
    const code = text.charCodeAt(i);
    if (code === 0x0d) {
      line.moveTo(0);
      return i + 1;
    }
    if (code === 0x08) {
      line.moveTo(line.cursor - 1);
      return i + 1;
    }
    if (code !== 0x1b) return i + 1; // other C0 controls (BEL, ...) show nothing
    const kind = text[i + 1];
    if (kind === undefined) return -1;
    if (kind === '[') return this.csi(line, text, i);
    if (kind === ']') {
      OSC_END.lastIndex = i + 2;
      const end = OSC_END.exec(text);
      return end ? end.index + end[0].length : -1;
    }
    if (kind === '(' || kind === ')') return i + 3 <= text.length ? i + 3 : -1;
    return i + 2;
  }

  csi(line, text, i) {
    CSI.lastIndex = i;
    const match = CSI.exec(text);
    if (!match) return CSI_PREFIX.test(text.slice(i)) ? -1 : i + 2;
    const [whole, params, intermediates, final] = match;
    const isPrivate = /^[<=>?]/.test(params);
    const n = parseInt(params, 10);
    if (!isPrivate && intermediates === '') {
      if (final === 'm') this.style = applySgr(this.style, params);
      else if (final === 'K') line.erase(Number.isNaN(n) ? 0 : n);
      else if (final === 'G') line.moveTo((Number.isNaN(n) || n < 1 ? 1 : n) - 1);
      else if (final === 'C') line.moveTo(line.cursor + (Number.isNaN(n) || n < 1 ? 1 : n));
      else if (final === 'D') line.moveTo(line.cursor - (Number.isNaN(n) || n < 1 ? 1 : n));
    }
    return i + whole.length;
  }

  keepPending(rest) {
    this.pending = rest.length <= MAX_PENDING_CHARS ? rest : '';
  }
}
