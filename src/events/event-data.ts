import type { Build, StepName } from '../builds/build-record.js';

/**
 * The `data` of each SSE event of GET /api/log/push, as the contract's table defines it: one
 * definition for the server that writes them, the CLI that reads them and the page's tests.
 */

/** The data of a `log` event: one line (or a piece of one) of a build's output. */
export interface LogEventData {
  readonly build: string;
  readonly step: StepName | null;
  readonly stream: 'stdout' | 'stderr' | 'system';
  /** When the chunk holding the line arrived, `YYYY-MM-DD HH:mm:ss.SSS` in the server's local time. */
  readonly time: string;
  /** The same moment, in epoch milliseconds. */
  readonly ts: number;
  /** The line without its line ending. */
  readonly text: string;
  /** Whether a `\n` ended the line (false: it continues in the next event, or the output ended). */
  readonly eol: boolean;
}

/** The data of a `build` event: the build after one of its status changes. */
export interface BuildEventData {
  readonly build: Build;
}

/** The data of an `end` event (only on `?build=` streams): the build as it ended. */
export interface EndEventData {
  readonly build: Build;
}

/** The data of a `reset` event: the client's id could not be resumed from. */
export interface ResetEventData {
  readonly reason: 'history_truncated';
}

/** Each event's name, to the type of its data. */
export interface EventDataByName {
  readonly log: LogEventData;
  readonly build: BuildEventData;
  readonly end: EndEventData;
  readonly reset: ResetEventData;
}

/** The name of an event of the stream. */
export type EventName = keyof EventDataByName;
