/**
 * One server stream through a native EventSource, kept open for as long as it is wanted.
 *
 * EventSource reconnects by itself after a dropped connection, sending Last-Event-ID, but it
 * gives up for good on any HTTP error and cannot say which. So when it gives up, the same URL
 * is fetched once to learn why: 503 (pool full) waits for Retry-After and opens again; 401
 * asks for a token; 404 and 204 (the build's end was already seen) stop; anything else,
 * including the server being down, retries with a growing delay. A stream opened again by
 * us passes the last id it saw as `?lastEventId=`, so nothing is sent twice.
 *
 * States: connecting, connected, reconnecting, server-full (detail.retryAt), unauthorized,
 * not-found, ended, closed.
 */

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;
const DEFAULT_RETRY_AFTER_S = 5;

/** One stream URL kept open with EventSource, resuming from the last id it saw. */
export class EventStream {
  /**
   * @param {object} options
   * @param {string} options.url the stream's path, e.g. `/api/log/push?build=<id>`
   * @param {string[]} options.events event names handed to onEvent
   * @param {string[]} [options.idOnly] event names whose id is remembered but which are not handed on
   * @param {string|null} [options.lastEventId] where to resume from
   * @param {{get(): string|null, next(): Promise<string>}} options.tokens
   * @param {(name: string, id: string, data: string) => void} options.onEvent
   * @param {(state: string, detail?: object) => void} options.onState
   */
  constructor({ url, events, idOnly = [], lastEventId = null, tokens, onEvent, onState }) {
    this.url = url;
    this.events = events;
    this.idOnly = idOnly;
    this.lastEventId = lastEventId;
    this.tokens = tokens;
    this.onEvent = onEvent;
    this.onState = onState;
    this.source = null;
    this.timer = null;
    this.probe = null;
    this.isClosed = false;
    this.retryMs = FIRST_RETRY_MS;
    this.state = null;
  }

  start() {
    this.open();
  }

  /** Stops for good: no reconnect, no more events. */
  close(finalState = 'closed') {
    if (this.isClosed) return;
    this.isClosed = true;
    this.source?.close();
    this.source = null;
    this.probe?.abort();
    clearTimeout(this.timer);
    this.setState(finalState);
  }

  streamUrl() {
    const url = new URL(this.url, location.href);
    const token = this.tokens.get();
    if (token) url.searchParams.set('token', token);
    if (this.lastEventId) url.searchParams.set('lastEventId', this.lastEventId);
    return url.href;
  }

  open() {
    if (this.isClosed) return;
    this.setState(this.state === null ? 'connecting' : 'reconnecting');
    const source = new EventSource(this.streamUrl());
    this.source = source;
    source.addEventListener('open', () => {
      this.retryMs = FIRST_RETRY_MS;
      this.setState('connected');
    });
    for (const name of this.events) {
      source.addEventListener(name, (event) => {
        if (this.source !== source) return;
        if (event.lastEventId) this.lastEventId = event.lastEventId;
        this.onEvent(name, event.lastEventId, event.data);
      });
    }
    for (const name of this.idOnly) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) this.lastEventId = event.lastEventId;
      });
    }
    source.addEventListener('error', () => {
      if (this.source !== source || this.isClosed) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.setState('reconnecting'); // the browser retries by itself, with Last-Event-ID
        return;
      }
      source.close();
      this.source = null;
      void this.diagnose();
    });
  }

  /** The EventSource gave up: ask the server why, then act on the answer. */
  async diagnose() {
    this.setState('reconnecting');
    const controller = new AbortController();
    this.probe = controller;
    let response;
    try {
      response = await fetch(this.streamUrl(), { headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal: controller.signal });
    } catch {
      response = null; // the server is unreachable
    } finally {
      this.probe = null;
    }
    if (this.isClosed) return;
    controller.abort(); // a 200 would hold a stream slot: let it go at once
    const status = response?.status ?? 0;
    if (status === 503) {
      const retryAfterS = Number(response.headers.get('Retry-After')) || DEFAULT_RETRY_AFTER_S;
      const retryAt = Date.now() + retryAfterS * 1000;
      this.setState('server-full', { retryAt });
      this.timer = setTimeout(() => this.open(), retryAfterS * 1000);
    } else if (status === 401) {
      this.setState('unauthorized');
      await this.tokens.next();
      this.open();
    } else if (status === 404) {
      this.close('not-found');
    } else if (status === 204) {
      this.close('ended');
    } else {
      this.timer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
  }

  setState(state, detail = {}) {
    if (state === this.state && state !== 'server-full') return;
    this.state = state;
    this.onState(state, detail);
  }
}
