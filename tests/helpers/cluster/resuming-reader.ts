import { SseReader, type SseEvent } from '../sse-reader.js';
import { sleep, waitFor } from '../wait.js';

export interface ResumingReaderOptions {
  /** The stream: `/api/log/push?build=<id>` or `/api/log/push`. */
  readonly path: string;
  /** The base URL of the process for each (re)connection, asked anew every time. */
  readonly pickBaseUrl: () => string;
  /** Give up (run() rejects) after this long. */
  readonly deadlineMs: number;
  /** Wait between a refused or broken connection and the next one. */
  readonly retryDelayMs?: number;
  /** Resume with `?lastEventId=` instead of the Last-Event-ID header. */
  readonly resumeViaQuery?: boolean;
  /** The id to resume after on the first connection (none: from the start, or from now). */
  readonly lastEventId?: string;
}

/** One connection of a resuming reader, for failure messages. */
export interface ConnectionRecord {
  readonly baseUrl: string;
  readonly lastEventId: string | undefined;
  status: number | null;
  events: number;
  error: string | null;
  body: string;
}

/** A connection that gets no response headers within this is dropped and tried again. */
const HEADERS_TIMEOUT_MS = 20000;

/**
 * A stream reader that does what a well-behaved client does across faults: when its
 * connection closes before the end, or is refused (503 while Redis does not answer), it
 * reconnects, to whichever process pickBaseUrl names, with the last id it received. It keeps
 * every event of every connection in order. A `?build=` reader is done at `end` (or a 204);
 * a global one when stop() is called.
 */
export class ResumingReader {
  readonly connections: ConnectionRecord[] = [];
  readonly finished: Promise<void>;
  private readonly received: SseEvent[] = [];
  private current: SseReader | null = null;
  private lastId: string | undefined;
  private isStopped = false;
  private wasGivenNoContent = false;

  constructor(readonly options: ResumingReaderOptions) {
    this.lastId = options.lastEventId;
    this.finished = this.run();
    this.finished.catch(() => {}); // awaited by the test; never an unhandled rejection meanwhile
  }

  /** Every event so far, over all connections, in the order received. */
  get events(): SseEvent[] {
    return this.current ? [...this.received, ...this.current.events] : [...this.received];
  }

  /** The id it would resume from now. */
  get lastEventId(): string | undefined {
    return this.current?.lastEventId ?? this.lastId;
  }

  /** Whether it received `end`. */
  hasEnded(): boolean {
    return this.events.some((e) => e.event === 'end');
  }

  /** Whether its last connection was answered 204 (a `?build=` stream resumed after its end). */
  wasToldNoContent(): boolean {
    return this.wasGivenNoContent;
  }

  /** Resolves once a connection was answered 200 (a global reader then gets every later event). */
  async waitForConnection(timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.connections.some((c) => c.status === 200), 'a first connection', timeoutMs);
  }

  /** Drops the current connection as a client-side network blip would; it reconnects at once. */
  reconnect(): void {
    this.current?.close();
  }

  /** Closes the stream for good (a global reader's end). */
  stop(): void {
    this.isStopped = true;
    this.current?.close();
  }

  /** Polls until predicate holds over the events so far; rejects after timeoutMs or if the reader fails. */
  async waitFor(predicate: (events: SseEvent[]) => boolean, what: string, timeoutMs: number): Promise<void> {
    let failure: unknown = null;
    this.finished.catch((error: unknown) => (failure = error));
    await waitFor(
      () => {
        if (failure) throw failure;
        return predicate(this.events);
      },
      `${what} on ${this.options.path} (${this.events.length} events, ${this.connections.length} connections)`,
      timeoutMs,
      50,
    );
  }

  /** The connections it made, one line each, for failure messages. */
  describe(): string {
    return this.connections
      .map((c, i) => `#${i + 1} ${c.baseUrl} after ${c.lastEventId ?? '(none)'}: ${c.error ?? c.status} with ${c.events} events${c.body ? ` ${c.body.slice(0, 200)}` : ''}`)
      .join('\n');
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + this.options.deadlineMs;
    const retryDelayMs = this.options.retryDelayMs ?? 200;
    // A connection that stays open past the deadline (a server that went silent) is dropped.
    const deadlineTimer = setTimeout(() => this.current?.close(), this.options.deadlineMs);
    try {
      while (!this.isStopped && !this.hasEnded()) {
        if (Date.now() >= deadline) throw new Error(`${this.options.path}: not over within ${this.options.deadlineMs} ms (${this.events.length} events)\n${this.describe()}`);
        const { record, wasDroppedByUs } = await this.connectOnce();
        if (this.isStopped || this.hasEnded() || this.wasGivenNoContent) return;
        // A drop this reader asked for reconnects at once; anything else waits a little, as EventSource does.
        if (!wasDroppedByUs || record.status !== 200) await sleep(retryDelayMs);
      }
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  /** One connection, from request to close. */
  private async connectOnce(): Promise<{ record: ConnectionRecord; wasDroppedByUs: boolean }> {
    const baseUrl = this.options.pickBaseUrl();
    const lastEventId = this.lastId;
    const record: ConnectionRecord = { baseUrl, lastEventId, status: null, events: 0, error: null, body: '' };
    this.connections.push(record);
    const isResuming = lastEventId !== undefined;
    const resumeQuery = isResuming && this.options.resumeViaQuery ? `${this.options.path.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(lastEventId)}` : '';
    const headers: Record<string, string> = isResuming && !this.options.resumeViaQuery ? { 'Last-Event-ID': lastEventId } : {};
    const reader = new SseReader(`${baseUrl}${this.options.path}${resumeQuery}`, headers);
    this.current = reader;
    const headersTimer = setTimeout(() => reader.close(), HEADERS_TIMEOUT_MS);
    try {
      // A request destroyed before its response may end without an error: closed settles it then.
      await Promise.race([reader.connected, reader.closed]);
    } catch (error) {
      record.error = (error as Error).message;
    } finally {
      clearTimeout(headersTimer);
    }
    if (reader.status === null && record.error === null) record.error = 'no response headers';
    record.status = reader.status; // already now, for waitForConnection()
    await reader.closed;
    record.status = reader.status;
    record.events = reader.events.length;
    record.body = reader.body;
    this.received.push(...reader.events);
    this.lastId = reader.lastEventId ?? this.lastId;
    this.current = null;
    if (reader.status === 204) this.wasGivenNoContent = true;
    return { record, wasDroppedByUs: reader.closedBy === 'client' };
  }
}
