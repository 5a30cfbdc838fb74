import type { BuildEventData, EndEventData, LogEventData } from '../events/event-data.js';

/** The data of a `log` event, as the contract defines it (the server's own type). */
export type LogLine = LogEventData;

/** A parsed event: a log line, a build snapshot (`build`, `end`), or something this CLI does not know. */
export type StreamEvent =
  | { readonly name: 'log'; readonly id: string | undefined; readonly data: LogLine }
  | { readonly name: 'build' | 'end'; readonly id: string | undefined; readonly data: BuildEventData | EndEventData }
  | { readonly name: 'other'; readonly event: string; readonly id: string | undefined; readonly data: unknown };
