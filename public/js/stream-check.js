/**
 * Looks once at how the server's stream reaches the page, for what a reverse proxy in between
 * can do to it: hold it back (buffering), so that nothing arrives, not even the heartbeat, or
 * let it go in clumps. The page's follows (the typed client) hand on events, not the heartbeats
 * (comments) nor when the bytes came, so this opens the global stream with fetch and reads its
 * first bytes: the server sends `retry:` at once, so on a good path the look is over in
 * milliseconds and its connection is let go. What a proxy held back arrives late and together
 * (a clump), or not within SILENCE_MS at all. The advice is the one `buildlog doctor` gives.
 */

/** Two of the server's default 15 s heartbeats, and some slack. */
export const SILENCE_MS = 35000;
/** Heartbeats closer together than this arrived together: the server writes each on its own. */
export const CLUMP_GAP_MS = 20;
/** A clump counts only after a silence at least this long. */
export const MIN_SILENCE_MS = 200;

const ADVICE = 'a proxy between you and the server buffers it. In nginx, set proxy_buffering off where it proxies /api/log/push; buildlog doctor checks the whole way.';

/**
 * The biggest run of heartbeats that arrived together (within CLUMP_GAP_MS of each other)
 * after a silence, on a stream that opened at startMs; null when they came one by one.
 * @param {number[]} pingAtMs arrival times, in order
 * @param {number} startMs
 * @returns {{size: number, silenceMs: number} | null}
 */
export function findClump(pingAtMs, startMs) {
  let best = null;
  let runStart = 0;
  for (let i = 1; i <= pingAtMs.length; i += 1) {
    if (i < pingAtMs.length && pingAtMs[i] - pingAtMs[i - 1] <= CLUMP_GAP_MS) continue;
    const size = i - runStart;
    const silenceMs = pingAtMs[runStart] - (runStart === 0 ? startMs : pingAtMs[runStart - 1]);
    if (size >= 2 && silenceMs >= MIN_SILENCE_MS && (!best || size > best.size)) best = { size, silenceMs };
    runStart = i;
  }
  return best;
}

/** The warning for a stream that stayed silent for `silentMs`. */
export function silenceWarning(silentMs) {
  return `Nothing reached this page on its stream for ${Math.round(silentMs / 1000)} s, not even the server's heartbeat: ${ADVICE}`;
}

/** The warning for heartbeats that came in a clump. */
export function clumpWarning({ size, silenceMs }) {
  return `The stream reaches this page in clumps (${size} heartbeats at once after ${(silenceMs / 1000).toFixed(1)} s of silence): ${ADVICE}`;
}

/** One look at the stream, started once; a problem is reported once through onProblem(message). */
export class StreamCheck {
  /**
   * @param {object} options
   * @param {{get(): string|null}} options.tokens
   * @param {(message: string) => void} options.onProblem
   * @param {string} [options.url]
   */
  constructor({ tokens, onProblem, url = '/api/log/push' }) {
    this.tokens = tokens;
    this.onProblem = onProblem;
    this.url = url;
    this.controller = null;
    this.hasStarted = false;
  }

  /** Starts the look (only the first call does anything). */
  start() {
    if (this.hasStarted) return;
    this.hasStarted = true;
    this.controller = new AbortController();
    void this.watch(this.controller.signal).finally(() => this.stop());
  }

  /** Lets the stream go. */
  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  async watch(signal) {
    const silenceTimer = setTimeout(() => {
      this.onProblem(silenceWarning(SILENCE_MS));
      this.stop();
    }, SILENCE_MS);
    try {
      const headers = { Accept: 'text/event-stream' };
      const token = this.tokens.get();
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await fetch(this.url, { headers, cache: 'no-store', signal });
      // Refusals (401, 503, ...) are the connection line's business; there is nothing to time.
      if (!response.ok || !response.body) return;
      const openedMs = performance.now();
      const first = await readFirstText(response.body.getReader());
      clearTimeout(silenceTimer);
      if (first === null) return;
      // Every heartbeat in the first bytes waited for `retry:`, which the server sends at once.
      const pings = first.text.split('\n').filter((line) => line.startsWith(':')).length;
      const clump = findClump(new Array(pings).fill(first.atMs), openedMs);
      if (clump) this.onProblem(clumpWarning(clump));
    } catch {
      // Aborted (silent, or the page went away) or dropped: nothing more to learn.
    } finally {
      clearTimeout(silenceTimer);
    }
  }
}

/** The first non-empty text a stream sends and when it came; null when it ends first. */
async function readFirstText(reader) {
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    const atMs = performance.now();
    const text = decoder.decode(value, { stream: true });
    if (text !== '') return { text, atMs };
  }
}
