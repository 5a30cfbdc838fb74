const STORAGE_KEY = 'buildlog.token';
const CHANNEL = 'buildlog-token';
const ASK_OTHER_TABS_MS = 300;

/**
 * The access token (AUTH_TOKEN on the server), kept for this browser session in
 * sessionStorage and shared with the page's other tabs over a BroadcastChannel, so that it is
 * asked for once. BroadcastChannel never leaves this origin.
 */
export class TokenStore {
  constructor(storage = sessionStorage) {
    this.storage = storage;
    /** The token when storage is unavailable (it then lives as long as the page). */
    this.memory = null;
    this.waiters = [];
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    this.channel?.addEventListener('message', ({ data }) => {
      if (data?.type === 'token' && typeof data.token === 'string') this.accept(data.token);
      if (data?.type === 'token-request' && this.get()) this.channel.postMessage({ type: 'token', token: this.get() });
    });
  }

  get() {
    try {
      return this.storage.getItem(STORAGE_KEY) ?? this.memory;
    } catch {
      return this.memory;
    }
  }

  /** Keeps a token the user gave, and hands it to the other tabs. */
  set(token) {
    this.accept(token);
    this.channel?.postMessage({ type: 'token', token });
  }

  /** Resolves with the next token that is set, here or in another tab. */
  next() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Asks the other tabs for their token; resolves with it, or null after a short wait. */
  async fromOtherTabs() {
    if (!this.channel) return null;
    const before = this.get();
    this.channel.postMessage({ type: 'token-request' });
    await new Promise((resolve) => setTimeout(resolve, ASK_OTHER_TABS_MS));
    const after = this.get();
    return after !== before ? after : null;
  }

  accept(token) {
    this.memory = token;
    try {
      this.storage.setItem(STORAGE_KEY, token);
    } catch {
      // Storage can be disabled; the token then lives in memory only.
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(token);
  }
}
