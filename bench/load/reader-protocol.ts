/**
 * Messages between the bench runner and its stream reader (the child that reads whole streams
 * and checks them, for rows e and f), over the child-process IPC channel.
 */

/** The output a reader copies and hashes: the `log` events of one step's stream. */
export interface OutputFilter {
  readonly step: string;
  readonly stream: string;
}

export interface ReadCommand {
  readonly cmd: 'read';
  /** Names this read in the reports (several may run at once). */
  readonly readId: number;
  readonly port: number;
  readonly path: string;
  readonly clients: number;
  /** Sent as Last-Event-ID. */
  readonly lastEventId: string | null;
  /** Close the stream at its first `log` event (a resume is timed to its first event). */
  readonly stopAtFirstLog: boolean;
  readonly output: OutputFilter | null;
  /** Streams still open after this long are closed and the read reported as timed out. */
  readonly timeoutMs: number;
}

export type ReaderCommand = ReadCommand;

/** What one stream received. */
export interface StreamReport {
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  readonly error: string | null;
  /** Bytes received, HTTP headers included. */
  readonly bytes: number;
  readonly frames: number;
  readonly logEvents: number;
  /** The first frames (event name and id), to check where a resume started. */
  readonly firstFrames: ReadonlyArray<{ readonly event: string; readonly id: string }>;
  /** From the start of the connect to the first `log` event, ms; null when none came. */
  readonly firstLogMs: number | null;
  /** Frames whose build position was not the one after the previous frame's (a reset starts over). */
  readonly orderErrors: number;
  readonly sawEnd: boolean;
  /** Bytes of `text + (eol ? "\n" : "")` over the filtered log events, and their sha256. */
  readonly outputBytes: number;
  readonly outputSha256: string | null;
}

export interface AnsweredReport {
  readonly type: 'answered';
  readonly readId: number;
  /** Streams that did not get a 200. */
  readonly failed: number;
}

export interface DoneReport {
  readonly type: 'done';
  readonly readId: number;
  readonly streams: readonly StreamReport[];
  readonly isTimedOut: boolean;
}

export type ReaderReport = AnsweredReport | DoneReport | { readonly type: 'error'; readonly readId: number | null; readonly message: string };
