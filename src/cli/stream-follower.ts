import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type ParseError } from 'eventsource-parser';
import { CliError, throwIfAborted } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { describeNetworkError, describeRetryableAnswer, errorForStatus, isRetryableStatus, retryAfterMs } from './http-failure.js';
import { RetryBudget } from './retry-budget.js';
import type { StreamMessage } from './stream-event.js';

/** What to follow, with which headers, and where each event goes. */
export interface FollowStreamOptions {
  /** The absolute URL of a `?build=` stream. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted when the user stops the CLI; its reason is rethrown. */
  readonly signal: AbortSignal;
  /** How long an outage (no connection, 503) is retried before giving up with 69. */
  readonly retryForMs: number;
  /** A connection that carries nothing, not even a heartbeat, for this long is dropped and resumed. */
  readonly idleTimeoutMs?: number;
  /** Each event in order, awaited: a slow consumer slows the reading, never buffers it. */
  onMessage(message: StreamMessage): void | Promise<void>;
  onNotice(text: string): void;
}

/** `ended`: the `end` event was handed on. `no_content`: the server answered 204 (the build is over). */
export type StreamOutcome = 'ended' | 'no_content';

/** Until the server sends `retry:`, the wait before a reconnect (what EventSource assumes too). */
const DEFAULT_RETRY_MS = 3000;
/** Four of the server's default 15 s heartbeats. */
const DEFAULT_IDLE_TIMEOUT_MS = 60000;
/** The parser's buffer bound: a `log` event holds at most 64 KiB of text, which JSON may escape up to 6-fold. */
const MAX_EVENT_CHARS = 4 << 20;
/** A server's `retry:` is honoured up to this. */
const MAX_RETRY_MS = 60000;

interface Cursor {
  lastEventId: string | null;
  retryMs: number;
}

/**
 * Follows a `?build=` stream to its `end`, as EventSource would but under our control: it
 * resumes with Last-Event-ID after a dropped connection or a server restart (waiting `retry:`),
 * waits out 503 with Retry-After, retries refused connections with backoff for a bounded
 * time, and stops at 204. What is new after a `reset` is the caller's business (ReplayGuard).
 */
export async function followStream(options: FollowStreamOptions): Promise<StreamOutcome> {
  const budget = new RetryBudget(options.retryForMs);
  const cursor: Cursor = { lastEventId: null, retryMs: DEFAULT_RETRY_MS };
  for (;;) {
    throwIfAborted(options.signal);
    const result = await attempt(options, cursor, budget);
    if ('outcome' in result) return result.outcome;
    const { problem, hintMs } = result;
    const delayMs = budget.nextDelayMs(hintMs);
    if (delayMs === null) throw new CliError(ExitCode.unreachable, `${problem}; gave up after retrying for ${budget.retryForMs / 1000} s`);
    options.onNotice(`${problem}; resuming in ${(delayMs / 1000).toFixed(1)} s`);
    await sleep(delayMs, undefined, { signal: options.signal }).catch(() => throwIfAborted(options.signal));
  }
}

/** What one connection came to: the stream's outcome, or a problem and the wait the server hinted. */
type Attempt = { readonly outcome: StreamOutcome } | { readonly problem: string; readonly hintMs: number };

/**
 * One connection: connect, then read events until `end` or until it drops. A watchdog drops
 * a connection that carries nothing, not even a heartbeat, for idleTimeoutMs (a vanished
 * peer), and the caller resumes it like any other.
 */
async function attempt(options: FollowStreamOptions, cursor: Cursor, budget: RetryBudget): Promise<Attempt> {
  const watchdog = new AbortController();
  const idleTimer = setTimeout(() => watchdog.abort(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  try {
    let response: Response;
    try {
      response = await fetch(options.url, {
        headers: {
          ...options.headers,
          Accept: 'text/event-stream',
          ...(cursor.lastEventId === null ? {} : { 'Last-Event-ID': cursor.lastEventId }),
        },
        signal: AbortSignal.any([options.signal, watchdog.signal]),
      });
    } catch (error) {
      throwIfAborted(options.signal);
      return { problem: `cannot reach the server (${describeNetworkError(error)})`, hintMs: cursor.retryMs };
    }
    if (response.status === 204) return { outcome: 'no_content' };
    if (isRetryableStatus(response.status)) {
      const problem = describeRetryableAnswer(response.status, await response.text().catch(() => ''));
      return { problem, hintMs: retryAfterMs(response) ?? cursor.retryMs };
    }
    if (response.status !== 200 || !response.body) throw errorForStatus(response.status, await response.text(), 'follow the build');
    const { isEnded, isAlive } = await readEvents(response.body, options, cursor, () => idleTimer.refresh());
    if (isEnded) return { outcome: 'ended' };
    if (isAlive) budget.succeeded();
    return { problem: 'lost the connection to the server', hintMs: cursor.retryMs };
  } finally {
    clearTimeout(idleTimer);
  }
}

/**
 * Reads one connection's events. `isAlive` says whether it carried anything (an event or a
 * heartbeat), so that a server that answers and drops at once spends the retry budget
 * instead of looping forever.
 */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  options: FollowStreamOptions,
  cursor: Cursor,
  onData: () => void,
): Promise<{ isEnded: boolean; isAlive: boolean }> {
  let isAlive = false;
  const queue: StreamMessage[] = [];
  const parser = createParser({
    onEvent: ({ id, event, data }) => queue.push({ id, event: event ?? 'message', data }),
    onRetry: (retryMs) => {
      cursor.retryMs = Math.min(retryMs, MAX_RETRY_MS);
    },
    onComment: () => {
      isAlive = true;
    },
    onError: (error: ParseError) => {
      if (error.type === 'max-buffer-size-exceeded') throw new CliError(ExitCode.protocol, 'the stream sent an event larger than 4 MiB');
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) {
      onData();
      parser.feed(decoder.decode(chunk, { stream: true }));
      for (const message of queue.splice(0)) {
        isAlive = true;
        // The id goes back in Last-Event-ID, a reset's too: after it the server starts over.
        if (message.id !== undefined) cursor.lastEventId = message.id;
        await options.onMessage(message);
        if (message.event === 'end') return { isEnded: true, isAlive };
      }
    }
  } catch (error) {
    throwIfAborted(options.signal);
    if (error instanceof CliError) throw error;
    // Otherwise a reset socket, a server gone, or the watchdog: resumed by the caller.
  }
  return { isEnded: false, isAlive };
}
