import http from 'node:http';
import type { LogEventData } from '../../src/events/event-data.js';

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
  readonly receivedAt: number;
}

/**
 * A byte-level SSE client on node:http, parsing the stream as the spec says, so that tests
 * see exactly what a browser would: status, headers, retry, comments, events, who closed.
 */
export class SseReader {
  status: number | null = null;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  closedBy: 'server' | 'client' | null = null;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  private readonly request: http.ClientRequest;
  private response: http.IncomingMessage | null = null;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private pending: { id: string | undefined; event: string; data: string[] } = { id: undefined, event: '', data: [] };
  private lastId: string | undefined;
  private idBuffer: string | undefined;
  private resolveClosed!: () => void;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, headers: Record<string, string> = {}, { pauseAfterHeaders = false } = {}) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.request = http.get(url, { agent: false, headers: { Accept: 'text/event-stream', ...headers } });
    this.connected = new Promise((resolve, reject) => {
      this.request.on('response', (response) => {
        this.response = response;
        this.status = response.statusCode ?? null;
        this.headers = response.headers;
        if (pauseAfterHeaders) response.pause();
        response.on('data', (chunk: Buffer) => this.onData(chunk));
        response.on('close', () => this.markClosed('server'));
        resolve();
      });
      this.request.on('error', (error) => {
        this.markClosed('server');
        reject(error);
      });
    });
    this.connected.catch(() => {});
  }

  /** Events of a given name. */
  named(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** The last id seen, as EventSource would send back in Last-Event-ID. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Resolves once predicate holds (checked after every chunk), rejects after timeoutMs. */
  waitFor(predicate: (reader: this) => boolean, what: string, timeoutMs = 15000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) {
          if (this.closedBy) finish(new Error(`stream closed before ${what} (${this.events.length} events)`));
          return;
        }
        finish(null);
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events)`)), timeoutMs);
      const finish = (error: Error | null) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.waiters.add(check);
    });
  }

  pause(): void {
    this.response?.pause();
  }

  resume(): void {
    this.response?.resume();
  }

  close(): void {
    if (!this.closedBy) this.closedBy = 'client';
    this.request.destroy();
    this.resolveClosed();
  }

  private onData(chunk: Buffer): void {
    if (this.status !== 200) {
      this.body += chunk.toString('utf8');
      return;
    }
    this.buffer += this.decoder.decode(chunk, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.onLine(line);
    }
    for (const waiter of [...this.waiters]) waiter();
  }

  private onLine(line: string): void {
    if (line === '') {
      if (this.pending.data.length > 0) {
        const data = this.pending.data.join('\n');
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        // As the spec says, the id buffer becomes the last event id only when an event is dispatched.
        this.lastId = this.idBuffer;
        this.events.push({ id: this.lastId, event: this.pending.event || 'message', data, json, receivedAt: Date.now() });
      }
      this.pending = { id: undefined, event: '', data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.idBuffer = value;
    else if (field === 'event') this.pending.event = value;
    else if (field === 'data') this.pending.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retries.push(Number(value));
  }

  private markClosed(by: 'server' | 'client'): void {
    if (!this.closedBy) this.closedBy = by;
    this.resolveClosed();
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** What a reader rebuilds of one build's stream from its log events (the contract's exactness rule). */
export function rebuildOutput(events: readonly SseEvent[], buildId: string, stream: 'stdout' | 'stderr' | 'system' = 'stdout'): string {
  return events
    .filter((e) => e.event === 'log')
    .map((e) => e.json as LogEventData)
    .filter((data) => data?.build === buildId && data.stream === stream)
    .map((data) => data.text + (data.eol ? '\n' : ''))
    .join('');
}

/**
 * Asserts that `needle` occurs in `haystack` exactly, describing the first difference in a
 * few dozen characters instead of a diff of a megabyte.
 */
export function expectToContainExactly(haystack: string, needle: string): void {
  if (haystack.includes(needle)) return;
  const probe = needle.slice(0, 20);
  const start = haystack.indexOf(probe);
  if (start === -1) throw new Error(`the expected output never starts (got ${haystack.length} chars: ${JSON.stringify(haystack.slice(0, 120))})`);
  let i = 0;
  while (i < needle.length && haystack[start + i] === needle[i]) i += 1;
  throw new Error(
    `output differs at char ${i} of ${needle.length}: expected ${JSON.stringify(needle.slice(i, i + 40))}, got ${JSON.stringify(haystack.slice(start + i, start + i + 40))}`,
  );
}
