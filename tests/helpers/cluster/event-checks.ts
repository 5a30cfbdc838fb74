import type { LogEventData } from '../../../src/events/event-data.js';
import { SseReader, type SseEvent } from '../sse-reader.js';

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** One event as a line that tells it apart: id, name, data (cut short). */
export function showEvent(event: SseEvent | undefined): string {
  if (!event) return '(nothing)';
  const data = event.data.length > 160 ? `${event.data.slice(0, 160)}...` : event.data;
  return `id ${event.id} ${event.event} ${data}`;
}

/**
 * Where two event sequences first differ (id, name or data), in a line or two; null when
 * they are equal. Readers that saw the same stream must agree on all three.
 */
export function firstDifference(actual: readonly SseEvent[], expected: readonly SseEvent[]): string | null {
  const length = Math.max(actual.length, expected.length);
  for (let i = 0; i < length; i += 1) {
    const a = actual[i];
    const e = expected[i];
    if (a && e && a.id === e.id && a.event === e.event && a.data === e.data) continue;
    return `differ at event ${i} of ${actual.length} (expected ${expected.length}):\n  got      ${showEvent(a)}\n  expected ${showEvent(e)}\n  before it: ${showEvent(expected[i - 1])}`;
  }
  return null;
}

/** Throws with the first difference unless the two sequences are the same events in the same order. */
export function expectSameEvents(actual: readonly SseEvent[], expected: readonly SseEvent[], what: string): void {
  const difference = firstDifference(actual, expected);
  if (difference !== null) throw new Error(`${what}: ${difference}`);
}

/** The ids that occur more than once. */
export function duplicateIds(events: readonly SseEvent[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const event of events) {
    if (event.id === undefined) continue;
    if (seen.has(event.id)) twice.add(event.id);
    seen.add(event.id);
  }
  return [...twice];
}

/** The build an event belongs to (log: data.build; build/end: data.build.id). */
export function buildOf(event: SseEvent): string | undefined {
  const build = event.json?.build;
  return typeof build === 'string' ? build : build?.id;
}

/** The events of one build, as a global stream carries them among the others. */
export function eventsOfBuild(events: readonly SseEvent[], buildId: string): SseEvent[] {
  return events.filter((e) => buildOf(e) === buildId);
}

/** The `log` data of one build's events, optionally of one stream only. */
export function logLines(events: readonly SseEvent[], buildId: string, stream?: LogEventData['stream']): LogEventData[] {
  return events
    .filter((e) => e.event === 'log')
    .map((e) => e.json as LogEventData)
    .filter((data) => data.build === buildId && (stream === undefined || data.stream === stream));
}

/** The tick numbers a `slow` fixture build printed, in the order the events carry them. */
export function ticksOf(events: readonly SseEvent[], buildId: string): number[] {
  return logLines(events, buildId, 'stdout')
    .map((line) => /^tick (\d+)$/.exec(line.text)?.[1])
    .filter((tick): tick is string => tick !== undefined)
    .map(Number);
}

/** The numbers of the lines a `lines` fixture build printed, in the order the events carry them. */
export function lineNumbersOf(events: readonly SseEvent[], buildId: string): number[] {
  return logLines(events, buildId, 'stdout')
    .map((line) => /^line (\d{6}) /.exec(line.text)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
}

/** 1, 2, ..., n. */
export function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Exactly what the `lines` fixture writes to stdout for these options (its build.js, line for line). */
export function linesFixtureOutput(count: number, width = 100): string {
  const filler = 'abcdefghij'.repeat(Math.ceil(width / 10)).slice(0, Math.max(0, width - 12));
  let text = '';
  for (let i = 1; i <= count; i += 1) text += `line ${String(i).padStart(6, '0')} ${filler}\n`;
  return text;
}

/** The final status a stream's `build` events reached for this build, if any. */
export function finalStatusOn(events: readonly SseEvent[], buildId: string): string | undefined {
  return events.filter((e) => e.event === 'build' && e.json.build.id === buildId && TERMINAL_STATUSES.includes(e.json.build.status)).at(-1)?.json.build.status;
}

/**
 * The whole `?build=` stream of a build from one process (a finished build replays, then
 * closes). Throws unless it answered 200 and closed after `end`.
 */
export async function replayBuild(baseUrl: string, buildId: string, timeoutMs = 30000): Promise<SseEvent[]> {
  const reader = new SseReader(`${baseUrl}/api/log/push?build=${encodeURIComponent(buildId)}`);
  const timer = setTimeout(() => reader.close(), timeoutMs);
  try {
    await reader.connected;
    await reader.closed;
  } finally {
    clearTimeout(timer);
  }
  if (reader.status !== 200) throw new Error(`replay of ${buildId} on ${baseUrl}: ${reader.status} ${reader.body.slice(0, 300)}`);
  if (reader.events.at(-1)?.event !== 'end') throw new Error(`replay of ${buildId} on ${baseUrl} did not close after end (${reader.events.length} events, last ${showEvent(reader.events.at(-1))})`);
  return reader.events;
}
