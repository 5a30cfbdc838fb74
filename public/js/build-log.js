import { TerminalLine, TerminalWriter } from './terminal-line.js';

/** One visual line of a build's log. */
export class LogLine {
  constructor(index, step, stream) {
    /** Position in BuildLog.lines; the line number people see is index + 1. */
    this.index = index;
    this.step = step;
    this.stream = stream;
    this.time = '';
    this.ts = 0;
    /** Bumped on every change, so that a view knows when to draw the line again. */
    this.version = 0;
    this.terminal = new TerminalLine();
    this.touchedAt = -1;
  }

  get number() {
    return this.index + 1;
  }

  get text() {
    return this.terminal.text;
  }

  get ansi() {
    return this.terminal.ansi;
  }
}

/** Lines of one step (or of none: the server's verdict lines), in order. */
export class LogSection {
  constructor(step) {
    this.step = step;
    /** @type {LogLine[]} */
    this.lines = [];
  }
}

/**
 * The log of one build, rebuilt from its `log` events. An event with `eol: false` leaves its
 * line open: the next event of the same step and stream goes on writing the same line (lines
 * over 64 KiB, partial lines flushed by the server, `\r` progress bars). Each step and stream
 * has its own terminal state. Lines are grouped in one section per step, in the order steps
 * first appear; the lines without a step (the verdict) come last.
 */
export class BuildLog {
  constructor() {
    this.clear();
  }

  /** Forgets everything (a `reset` event, or another build). */
  clear() {
    /** @type {LogLine[]} */
    this.lines = [];
    /** @type {Map<string, LogSection>} */
    this.sectionsByStep = new Map();
    this.stepless = new LogSection(null);
    /** The open (unfinished) line of each step and stream. */
    this.openLines = new Map();
    this.writers = new Map();
    this.epoch = 0;
    this.touched = [];
    this.wasCleared = true;
  }

  /** Sections in display order: steps first, then the stepless lines. */
  get sections() {
    const sections = [...this.sectionsByStep.values()];
    if (this.stepless.lines.length > 0) sections.push(this.stepless);
    return sections;
  }

  sectionOf(step) {
    if (step === null || step === undefined) return this.stepless;
    let section = this.sectionsByStep.get(step);
    if (!section) {
      section = new LogSection(step);
      this.sectionsByStep.set(step, section);
    }
    return section;
  }

  /** Declares a step's section before it has lines (so that it shows as soon as it starts). */
  ensureSection(step) {
    this.sectionOf(step);
  }

  /** Applies the data of one `log` event. */
  append({ step = null, stream, time, ts, text, eol }) {
    const key = `${step}\u0000${stream}`;
    let line = this.openLines.get(key);
    if (!line) {
      line = new LogLine(this.lines.length, step, stream);
      this.lines.push(line);
      this.sectionOf(step).lines.push(line);
    }
    let writer = this.writers.get(key);
    if (!writer) {
      writer = new TerminalWriter();
      this.writers.set(key, writer);
    }
    writer.write(line.terminal, text);
    line.time = time;
    line.ts = ts;
    line.version += 1;
    if (eol) {
      writer.endLine();
      this.openLines.delete(key);
    } else {
      this.openLines.set(key, line);
    }
    if (line.touchedAt !== this.epoch) {
      line.touchedAt = this.epoch;
      this.touched.push(line.index);
    }
  }

  /**
   * What changed since the last call: whether the log was cleared, and the indexes of the
   * lines added or changed (ascending).
   */
  takeChanges() {
    const changes = { wasCleared: this.wasCleared, lineIndexes: this.touched.sort((a, b) => a - b) };
    this.wasCleared = false;
    this.touched = [];
    this.epoch += 1;
    return changes;
  }
}
