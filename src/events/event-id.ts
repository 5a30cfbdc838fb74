/**
 * Event ids: `<boot>-<g>-<n>`. `boot` names this server process, `g` counts the events of
 * this process (the position on the global stream), `n` counts the events of one build
 * (the position on its ?build= stream). One id thus works on both streams, so each event is
 * serialized once; `boot` makes ids from an earlier process unreadable on the global stream,
 * whose history is not kept across restarts, while `n` stays meaningful on a build's stream,
 * whose history is. Counting starts at 1; 0 means "before the first event".
 */
export interface EventId {
  readonly boot: string;
  readonly global: number;
  readonly build: number;
}

const ID_PATTERN = /^([0-9a-z]{1,16})-(\d{1,15})-(\d{1,15})$/;

export function formatEventId({ boot, global, build }: EventId): string {
  return `${boot}-${global}-${build}`;
}

/** Parses an id echoed back by a client; null when it is not one of ours. */
export function parseEventId(raw: string | undefined | null): EventId | null {
  if (!raw) return null;
  const match = ID_PATTERN.exec(raw);
  if (!match) return null;
  return { boot: match[1]!, global: Number(match[2]), build: Number(match[3]) };
}

/** A fresh boot tag: the start time in base 36 plus a random suffix. */
export function newBootTag(nowMs: number = Date.now()): string {
  return nowMs.toString(36) + Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0');
}
