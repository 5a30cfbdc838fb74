/**
 * The `log` event of the contract, as the LIMIT and SEED servers send it: the same JSON shape,
 * field order and id format as the real server, so that every server puts the same bytes on
 * the wire for the same line.
 */
export interface LogEventFields {
  readonly buildId: string;
  readonly text: string;
  readonly atMs: number;
}

let lastMs = Number.NaN;
let lastText = '';

/** `YYYY-MM-DD HH:mm:ss.SSS` in local time, reused for the lines of one chunk (as the server does). */
export function formatLogTime(ms: number): string {
  if (ms === lastMs) return lastText;
  const d = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  lastText = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  lastMs = ms;
  return lastText;
}

/** The data line of one stdout line of the `build` step. */
export function logEventJson({ buildId, text, atMs }: LogEventFields): string {
  return JSON.stringify({ build: buildId, step: 'build', stream: 'stdout', time: formatLogTime(atMs), ts: atMs, text, eol: true });
}

/** Ids shaped like the server's `<boot>-<global>-<build>`. */
export function eventId(boot: string, number: number): string {
  return `${boot}-${number}-${number}`;
}

function randomChars(count: number): string {
  let text = '';
  for (let i = 0; i < count; i += 1) text += Math.floor(Math.random() * 36).toString(36);
  return text;
}

/** A process tag like the server's boot tag (its start time in base 36 plus 3 random characters). */
export function newBootTag(): string {
  return Date.now().toString(36) + randomChars(3);
}

/** A build id like the server's (9 characters of time, 6 random). */
export function newBuildId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomChars(6);
}
