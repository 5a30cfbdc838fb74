import { BuildLogError } from '/client.js';

/**
 * One of the page's streams, every build's status changes or one build's log, followed with
 * the typed client (/client.js): the client resumes after every interruption (dropped
 * connections, 502/503 with Retry-After, a server restart), asks for the token on a 401 and
 * hands each event on once. This only puts the follow's progress into the connection line's
 * words, and follows again from the last id when a token arrives after the client gave up on
 * a 401 (the token dialog dismissed, or refused too often): the page keeps waiting for one.
 *
 * States: connecting, connected, reconnecting, server-full (detail.retryAt), unauthorized,
 * not-found, ended, closed.
 */
export class FeedStream {
  /**
   * @param {object} options
   * @param {import('/client.js').BuildLogClient} options.client
   * @param {string} [options.build] the build whose log to follow; without it, every build's status changes
   * @param {string|null} [options.lastEventId] where to resume from
   * @param {{next(): Promise<string>}} options.tokens
   * @param {(name: string, id: string|null, data: object) => void} options.onEvent `log`, `build` and `end` of a
   *   build; `build` and `reset` (the server could not resume: re-read the list) of every build
   * @param {(state: string, detail?: object) => void} options.onState
   */
  constructor({ client, build, lastEventId = null, tokens, onEvent, onState }) {
    this.client = client;
    this.build = build;
    this.lastEventId = lastEventId;
    this.tokens = tokens;
    this.onEvent = onEvent;
    this.onState = onState;
    this.controller = null;
    this.isClosed = false;
    this.state = null;
  }

  start() {
    void this.follow();
  }

  /** Stops for good: no reconnect, no more events. */
  close(finalState = 'closed') {
    if (this.isClosed) return;
    this.isClosed = true;
    this.controller?.abort();
    this.controller = null;
    this.setState(finalState);
  }

  async follow() {
    const controller = new AbortController();
    this.controller = controller;
    try {
      await this.client.follow({
        build: this.build,
        lastEventId: this.lastEventId,
        signal: controller.signal,
        onEvent: (event) => this.take(event),
        onStatus: (status) => this.report(status),
      });
      this.close('ended');
    } catch (error) {
      if (this.isClosed) return;
      if (error instanceof BuildLogError && error.status === 401) {
        this.setState('unauthorized');
        await this.tokens.next();
        if (!this.isClosed) void this.follow();
        return;
      }
      this.close(error instanceof BuildLogError && error.status === 404 ? 'not-found' : 'closed');
    }
  }

  take(event) {
    if (event.id) this.lastEventId = event.id;
    // Every build's log lines and ends pass by on the global stream too; the page lists builds from it.
    if (this.build === undefined && event.name !== 'build') return;
    this.onEvent(event.name, event.id, event.data);
  }

  report(status) {
    if (this.isClosed) return;
    if (status.state === 'connecting') this.setState(this.state === null ? 'connecting' : 'reconnecting');
    else if (status.state === 'open') this.setState('connected');
    else if (status.state === 'unauthorized') this.setState('unauthorized');
    else if (status.state === 'retrying' && status.httpStatus === 503) this.setState('server-full', { retryAt: Date.now() + status.delayMs });
    else if (status.state === 'retrying') this.setState('reconnecting');
    // On a build's stream the client skips what a replay repeats; the global one may have missed builds.
    else if (status.state === 'reset' && this.build === undefined) this.onEvent('reset', null, {});
  }

  setState(state, detail = {}) {
    if (state === this.state && state !== 'server-full') return;
    this.state = state;
    this.onState(state, detail);
  }
}
