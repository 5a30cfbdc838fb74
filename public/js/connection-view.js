/** Stream states, the most worrying first: the line shows the first one any stream is in. */
const PRIORITY = ['unauthorized', 'server-full', 'reconnecting', 'connecting', 'waiting', 'not-found', 'connected', 'ended', 'closed'];

/**
 * The connection state line: the worst state of the page's streams, in words, with a
 * countdown while the server is full. `data-state` carries the state for styles and tests.
 * A problem that the streams' states cannot show (a proxy that holds the stream back, a
 * POST the server refused for its Host or Origin rules) is shown instead, with its advice,
 * unless a token is needed: a stream can be "connected" while the page does not work.
 */
export class ConnectionView {
  constructor(element, { onAskToken }) {
    this.element = element;
    this.text = element.querySelector('[data-role="connection-text"]');
    // The countdown changes every second; screen readers hear the state, not every tick.
    this.countdown = element.querySelector('[data-role="connection-countdown"]');
    this.tokenButton = element.querySelector('[data-role="token-button"]');
    this.tokenButton.addEventListener('click', onAskToken);
    this.states = new Map();
    /** Problems by kind (its data-state), in the order they appeared. */
    this.problems = new Map();
    this.isShared = false;
    setInterval(() => this.render(), 1000);
  }

  set(feed, state, detail = {}) {
    if (state === null) this.states.delete(feed);
    else this.states.set(feed, { state, detail });
    this.render();
  }

  /** Shows `message` for a problem of this kind (e.g. 'held-back', 'refused'); null clears it. */
  setProblem(kind, message) {
    if (message === null) this.problems.delete(kind);
    else this.problems.set(kind, message);
    this.render();
  }

  setShared(isShared) {
    this.isShared = isShared;
    this.render();
  }

  render() {
    let worst = { state: 'connecting', detail: {} };
    let rank = Infinity;
    for (const entry of this.states.values()) {
      const r = PRIORITY.indexOf(entry.state);
      if (r !== -1 && r < rank) {
        rank = r;
        worst = entry;
      }
    }
    const { state, detail } = worst;
    const shared = this.isShared ? ' (through another tab)' : '';
    const words = {
      unauthorized: 'Access token needed',
      'server-full': 'Server full: retrying by itself',
      reconnecting: 'Reconnecting…',
      connecting: 'Connecting…',
      waiting: 'Waiting for a free stream (too many builds open)',
      'not-found': 'Build not found',
      connected: `Connected${shared}`,
      ended: `Connected${shared}`,
      closed: 'Not connected',
    };
    const problem = state === 'unauthorized' ? undefined : [...this.problems][0];
    if (problem) {
      this.show(problem[0], problem[1], '');
      return;
    }
    const seconds = Math.max(0, Math.ceil(((detail.retryAt ?? Date.now()) - Date.now()) / 1000));
    const countdown = state === 'server-full' ? ` in ${seconds} s` : '';
    this.show(state === 'ended' ? 'connected' : state, words[state] ?? state, countdown);
  }

  show(dataState, text, countdown) {
    this.element.dataset.state = dataState;
    if (this.text.textContent !== text) this.text.textContent = text;
    if (this.countdown.textContent !== countdown) this.countdown.textContent = countdown;
    this.tokenButton.hidden = dataState !== 'unauthorized';
  }
}
