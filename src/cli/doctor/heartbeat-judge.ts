/**
 * Pings closer together than this arrived together: a server writes each heartbeat on its own,
 * HEARTBEAT_MS apart, so only something that held them back delivers several in one go.
 */
export const CLUMP_GAP_MS = 20;
/** A clump counts only after a silence at least this long (HEARTBEAT_MS under it cannot be judged). */
export const MIN_SILENCE_MS = 200;

/** What the arrival times of a stream's heartbeats say about the path they took. */
export type HeartbeatVerdict =
  /** One by one; `intervalMs` is the median gap between them. */
  | { readonly kind: 'steady'; readonly intervalMs: number; readonly count: number }
  /** `size` pings arrived within CLUMP_GAP_MS of each other after `silenceMs` of nothing: a buffer let them go at once. */
  | { readonly kind: 'clumped'; readonly size: number; readonly silenceMs: number }
  /** A single ping: no interval to measure. */
  | { readonly kind: 'single' }
  | { readonly kind: 'none' };

/**
 * Judges when the heartbeats arrived (ms on one clock, in order) on a stream that opened at
 * `startMs`. Pure, so that the rule is tested on numbers rather than on a proxy's timing.
 */
export function judgeHeartbeats(pingAtMs: readonly number[], startMs: number): HeartbeatVerdict {
  if (pingAtMs.length === 0) return { kind: 'none' };
  const clump = findClump(pingAtMs, startMs);
  if (clump) return clump;
  if (pingAtMs.length === 1) return { kind: 'single' };
  const gaps = pingAtMs.slice(1).map((at, i) => at - pingAtMs[i]!);
  return { kind: 'steady', intervalMs: median(gaps), count: pingAtMs.length };
}

/** The biggest run of pings that arrived together after a silence, if any. */
function findClump(pingAtMs: readonly number[], startMs: number): HeartbeatVerdict | null {
  let best: { size: number; silenceMs: number } | null = null;
  let runStart = 0;
  for (let i = 1; i <= pingAtMs.length; i += 1) {
    const isInRun = i < pingAtMs.length && pingAtMs[i]! - pingAtMs[i - 1]! <= CLUMP_GAP_MS;
    if (isInRun) continue;
    const size = i - runStart;
    const silenceMs = pingAtMs[runStart]! - (runStart === 0 ? startMs : pingAtMs[runStart - 1]!);
    if (size >= 2 && silenceMs >= MIN_SILENCE_MS && (!best || size > best.size)) best = { size, silenceMs };
    runStart = i;
  }
  return best && { kind: 'clumped', ...best };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
