import type { LogEventData } from '../events/event-data.js';

/** The fields of a `log` event that the text renderings use. */
export type RenderedLogFields = Pick<LogEventData, 'stream' | 'time' | 'text' | 'eol'>;

/** How GET /api/builds/:id/log renders a build's log events. */
export type LogRendering = 'text' | 'raw';

/**
 * One log event as text: `[time] text` for stdout, `[time] [stderr] text` or
 * `[time] [system] text` for the others, always ending its line. In raw rendering, the exact
 * output (`text`, plus `\n` when a newline ended it) and nothing of the system stream.
 */
export function renderLogEvent(data: RenderedLogFields, rendering: LogRendering): string {
  if (rendering === 'raw') return data.stream === 'system' ? '' : data.eol ? `${data.text}\n` : data.text;
  const mark = data.stream === 'stdout' ? '' : ` [${data.stream}]`;
  return `[${data.time}]${mark} ${data.text}\n`;
}
