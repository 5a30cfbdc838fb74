import type { Build } from '../builds/build-record.js';
import type { BuildEventData, EndEventData, LogEventData } from '../events/event-data.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/** One SSE event as it came off the wire. */
export interface StreamMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** The data of a `log` event, as the contract defines it (the server's own type). */
export type LogLine = LogEventData;

/** A parsed event: a log line, a build snapshot (`build`, `end`), or something this CLI does not know. */
export type StreamEvent =
  | { readonly name: 'log'; readonly id: string | undefined; readonly data: LogLine }
  | { readonly name: 'build' | 'end'; readonly id: string | undefined; readonly data: BuildEventData | EndEventData }
  | { readonly name: 'other'; readonly event: string; readonly id: string | undefined; readonly data: unknown };

const STREAMS = new Set(['stdout', 'stderr', 'system']);

/** Parses and checks an event's JSON data; a malformed known event is a protocol error (76). */
export function parseStreamEvent(message: StreamMessage): StreamEvent {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw malformed(message);
  }
  if (message.event === 'log') {
    if (!isLogLine(data)) throw malformed(message);
    return { name: 'log', id: message.id, data };
  }
  if (message.event === 'build' || message.event === 'end') {
    const build = (data as { build?: Partial<Build> } | null)?.build;
    if (typeof build?.id !== 'string' || typeof build.status !== 'string' || !Array.isArray(build.steps)) throw malformed(message);
    return { name: message.event, id: message.id, data: data as BuildEventData };
  }
  return { name: 'other', event: message.event, id: message.id, data };
}

function isLogLine(data: unknown): data is LogLine {
  const line = data as Partial<LogLine> | null;
  return typeof line?.text === 'string' && typeof line.eol === 'boolean' && typeof line.time === 'string' && STREAMS.has(line.stream as string);
}

function malformed(message: StreamMessage): CliError {
  return new CliError(ExitCode.protocol, `the stream sent a malformed ${message.event} event: ${message.data.slice(0, 200)}`);
}
