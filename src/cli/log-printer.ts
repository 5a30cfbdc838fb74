import type { StreamEvent } from './stream-event.js';
import { writeOutput, type Output } from './write-output.js';

/** How the printer shows events: as text (optionally timestamped, dimmed) or as JSON lines. */
export interface LogPrinterOptions {
  /** Prefix `[time] ` to each printed line. */
  readonly timestamps: boolean;
  /** Print every event as one JSON line on stdout instead of the text. */
  readonly json: boolean;
  /** Dim the server's system lines (stderr is a terminal and colour is allowed). */
  readonly dimSystem: boolean;
}

// SGR 2 (faint) and 22 (normal intensity): the two codes of a dimmed line, not worth a library.
const DIM_ON = '\x1b[2m';
const DIM_OFF = '\x1b[22m';

/**
 * Prints a build's events: stdout lines to stdout byte for byte (`text`, plus "\n" only when
 * `eol`, so a partial line is continued by the next event), stderr and system lines to
 * stderr. Also the CLI's own notices, which, like system lines, always start a line of their own.
 */
export class LogPrinter {
  private isStdoutAtLineStart = true;
  private isStderrAtLineStart = true;

  constructor(
    private readonly stdout: Output,
    private readonly stderr: Output,
    private readonly options: LogPrinterOptions,
  ) {}

  /** Prints one event of a build's stream (already known to be new). */
  async print(event: StreamEvent): Promise<void> {
    if (this.options.json) {
      const name = event.name === 'other' ? event.event : event.name;
      await writeOutput(this.stdout, `${JSON.stringify({ id: event.id, event: name, data: event.data })}\n`);
      return;
    }
    if (event.name !== 'log') return; // build and end: the system lines already tell the story
    const { stream, text, eol, time } = event.data;
    const prefix = this.options.timestamps ? `[${time}] ` : '';
    if (stream === 'stdout') {
      const output = (this.isStdoutAtLineStart ? prefix : '') + text + (eol ? '\n' : '');
      this.isStdoutAtLineStart = eol;
      await writeOutput(this.stdout, output);
      return;
    }
    let output = this.isStderrAtLineStart ? prefix : '';
    if (stream === 'system') {
      // A system line never continues a partial stderr line: it gets a line of its own.
      output = (this.isStderrAtLineStart ? '' : '\n') + prefix;
      output += this.options.dimSystem ? DIM_ON + text + DIM_OFF : text;
    } else {
      output += text;
    }
    output += eol ? '\n' : '';
    this.isStderrAtLineStart = eol;
    await writeOutput(this.stderr, output);
  }

  /** One line of the CLI's own on stderr: `buildlog: ...`. */
  notice(text: string): void {
    this.stderr.write(`${this.isStderrAtLineStart ? '' : '\n'}buildlog: ${text}\n`);
    this.isStderrAtLineStart = true;
  }
}
