import { FeedStream } from './feed-stream.js';

/**
 * Shares the server's streams between the page's tabs. A browser allows six HTTP/1.1
 * connections per origin, so a stream per tab would starve the seventh tab. Instead one tab,
 * the leader (whoever holds a Web Lock), follows each stream once for all tabs (a FeedStream:
 * the typed client's follow, which does all the resuming) and relays each event over a
 * BroadcastChannel; when it closes, the lock passes to another tab, which follows the streams
 * again from the last id the tabs saw.
 *
 * A feed is named by a key: `global` (every build's status changes) or `build:<id>` (one
 * build's log, replayed from its start). The leader keeps the events of each build feed
 * (up to MAX_CACHE_CHARS) so that a tab that subscribes later gets the whole build without
 * another connection. Without Web Locks (pages not served from localhost or https) each tab
 * simply holds its own streams.
 *
 * Messages: subscribe / unsubscribe / hello (tab → leader); leader (a tab took the lead);
 * ack (leader → one tab: the subscription is live, with the events it missed); events and
 * state (leader → all tabs); unknown (leader → one tab: subscribe again).
 */

const CHANNEL = 'buildlog-streams';
const LOCK = 'buildlog-stream-leader';
/** Build streams held at once; with the global one that leaves two connections for requests. */
export const MAX_BUILD_STREAMS = 3;
/** Characters of event data a leader keeps per build for tabs that subscribe later. */
const MAX_CACHE_CHARS = 8_000_000;
const ACK_TIMEOUT_MS = 4000;
const HELLO_INTERVAL_MS = 10000;
const SUBSCRIBER_TTL_MS = 35000;
const RELAY_BATCH_EVENTS = 2000;

function randomId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** This tab's end of the shared streams: subscriptions here, feeds when it leads. */
export class StreamHub {
  /**
   * @param {object} options
   * @param {import('/client.js').BuildLogClient} options.client
   * @param {import('./token-store.js').TokenStore} options.tokens
   */
  constructor({ client, tokens }) {
    this.client = client;
    this.tokens = tokens;
    this.tabId = randomId();
    /** This tab's subscriptions, by key. */
    this.subs = new Map();
    /** The leader's feeds, by key. */
    this.feeds = new Map();
    this.isLeader = false;
    this.roleListeners = new Set();
    this.outbox = new Map();
    this.isFlushQueued = false;
    this.nonce = 0;
    this.isShared = typeof BroadcastChannel === 'function' && typeof navigator.locks?.request === 'function';
    if (!this.isShared) {
      this.becomeLeader();
      return;
    }
    // A MessageChannel turn instead of a timer: timers of background tabs are throttled.
    this.turn = new MessageChannel();
    this.turn.port1.onmessage = () => this.flushAll();
    this.channel = new BroadcastChannel(CHANNEL);
    this.channel.onmessage = ({ data }) => this.onMessage(data);
    navigator.locks.request(LOCK, () => {
      this.becomeLeader();
      return new Promise(() => {}); // held for as long as this tab lives
    });
    setInterval(() => this.sayHello(), HELLO_INTERVAL_MS);
    addEventListener('pagehide', () => {
      if (!this.isLeader) for (const key of this.subs.keys()) this.post({ type: 'unsubscribe', tab: this.tabId, key });
    });
    addEventListener('pageshow', (event) => {
      if (event.persisted) for (const sub of this.subs.values()) this.request(sub);
    });
  }

  /** Calls back with true when this tab holds the streams, false when another tab does. */
  onRoleChange(listener) {
    this.roleListeners.add(listener);
    listener(this.isLeader);
  }

  /**
   * Follows a feed: onEvent(name, id, data) for each event from where this tab is (data as the
   * client parsed it; `reset`: start over from what follows), and onState(state, detail) for
   * the connection's state. Returns a function that stops it.
   */
  subscribe(key, { onEvent, onState }) {
    this.subs.get(key)?.stop();
    const sub = { key, onEvent, onState, lastEventId: null, isPending: true, nonce: 0, ackTimer: null, stop: () => {} };
    sub.stop = () => {
      if (this.subs.get(key) !== sub) return;
      this.subs.delete(key);
      clearTimeout(sub.ackTimer);
      if (this.isLeader) this.detach(this.tabId, key);
      else this.post({ type: 'unsubscribe', tab: this.tabId, key });
    };
    this.subs.set(key, sub);
    this.request(sub);
    return sub.stop;
  }

  // ---- every tab ----

  request(sub) {
    sub.isPending = true;
    this.nonce += 1;
    sub.nonce = this.nonce;
    clearTimeout(sub.ackTimer);
    if (this.isLeader) {
      this.attach(this.tabId, sub.key, sub.lastEventId, sub.nonce);
      return;
    }
    sub.onState('connecting', {});
    this.post({ type: 'subscribe', tab: this.tabId, key: sub.key, lastEventId: sub.lastEventId, nonce: sub.nonce });
    // A message can find no leader (one is just closing): ask again until one answers.
    sub.ackTimer = setTimeout(() => {
      if (sub.isPending && this.subs.get(sub.key) === sub && !this.isLeader) this.request(sub);
    }, ACK_TIMEOUT_MS);
  }

  deliver(sub, event) {
    if (event.event === 'reset') sub.lastEventId = event.id ?? null;
    else if (event.id) sub.lastEventId = event.id;
    sub.onEvent(event.event, event.id, event.data);
  }

  /** The subscription is live: apply what it missed, then take the relayed events. */
  acknowledged(sub, { events, isReset, state, detail }) {
    clearTimeout(sub.ackTimer);
    if (isReset) this.deliver(sub, { id: null, event: 'reset', data: { reason: 'history_truncated' } });
    for (const event of events) this.deliver(sub, event);
    sub.isPending = false;
    sub.onState(state, detail);
  }

  onMessage(message) {
    if (!message || typeof message !== 'object') return;
    const sub = this.subs.get(message.key);
    switch (message.type) {
      case 'subscribe':
        if (this.isLeader) this.attach(message.tab, message.key, message.lastEventId, message.nonce);
        break;
      case 'unsubscribe':
        if (this.isLeader) this.detach(message.tab, message.key);
        break;
      case 'hello':
        if (this.isLeader) this.heardFrom(message.tab, message.keys);
        break;
      case 'leader':
        if (!this.isLeader) for (const each of this.subs.values()) this.request(each);
        this.setRole(false);
        break;
      case 'ack':
        if (message.to === this.tabId && sub && sub.nonce === message.nonce) this.acknowledged(sub, message);
        break;
      case 'events':
        if (!this.isLeader && sub && !sub.isPending) for (const event of message.events) this.deliver(sub, event);
        break;
      case 'state':
        if (!this.isLeader && sub && !sub.isPending) sub.onState(message.state, message.detail);
        break;
      case 'unknown':
        if (message.to === this.tabId && sub && !sub.isPending) this.request(sub);
        break;
      default:
    }
  }

  post(message) {
    this.channel?.postMessage(message);
  }

  sayHello() {
    if (!this.isLeader) {
      this.post({ type: 'hello', tab: this.tabId, keys: [...this.subs.keys()] });
      return;
    }
    const now = Date.now();
    for (const feed of [...this.feeds.values()]) {
      for (const [tab, seenAt] of feed.subscribers) {
        if (tab !== this.tabId && now - seenAt > SUBSCRIBER_TTL_MS) this.detach(tab, feed.key);
      }
    }
  }

  setRole(isLeader) {
    this.isLeader = isLeader;
    for (const listener of this.roleListeners) listener(isLeader);
  }

  // ---- the leader ----

  becomeLeader() {
    this.setRole(true);
    for (const sub of this.subs.values()) this.request(sub);
    this.post({ type: 'leader', tab: this.tabId });
  }

  heardFrom(tab, keys) {
    for (const key of keys) {
      const feed = this.feeds.get(key);
      if (feed?.subscribers.has(tab)) feed.subscribers.set(tab, Date.now());
      else this.post({ type: 'unknown', to: tab, key });
    }
  }

  /** A tab follows a feed from lastEventId (null: from the start). */
  attach(tab, key, lastEventId, nonce) {
    let feed = this.feeds.get(key);
    const isNew = !feed;
    if (!feed) feed = this.createFeed(key, lastEventId);
    feed.subscribers.set(tab, Date.now());
    if (isNew || key === 'global') {
      // The global feed is not replayed: tabs read the build list when it connects.
      this.ack(tab, feed, nonce, [], false);
      return;
    }
    if (lastEventId === feed.cacheBase && feed.isCacheComplete) {
      this.ack(tab, feed, nonce, feed.cache, false);
      return;
    }
    const at = lastEventId === null ? -1 : findLastIndex(feed.cache, (event) => event.id === lastEventId);
    if (at !== -1) {
      this.ack(tab, feed, nonce, feed.cache.slice(at + 1), false);
      return;
    }
    if (feed.isCacheComplete && feed.cacheBase === null) {
      this.ack(tab, feed, nonce, feed.cache, true);
      return;
    }
    // What this tab needs is no longer kept here: every tab of this feed starts over.
    this.ack(tab, feed, nonce, [], false);
    this.restartFeed(feed);
  }

  ack(tab, feed, nonce, events, isReset) {
    this.flushOutbox(feed.key); // what was sent before the ack must not come again after it
    const message = { type: 'ack', to: tab, key: feed.key, nonce, events, isReset, state: feed.state, detail: feed.detail };
    if (tab !== this.tabId) {
      this.post(message);
      return;
    }
    const sub = this.subs.get(feed.key);
    if (sub && sub.nonce === nonce) this.acknowledged(sub, message);
  }

  detach(tab, key) {
    const feed = this.feeds.get(key);
    if (!feed) return;
    feed.subscribers.delete(tab);
    if (feed.subscribers.size > 0) return;
    feed.stream?.close();
    this.feeds.delete(key);
    this.outbox.delete(key);
    this.startWaitingFeeds();
  }

  createFeed(key, lastEventId) {
    const feed = {
      key,
      subscribers: new Map(),
      cache: [],
      cacheChars: 0,
      /** The id the cache starts after (null: the feed's beginning). */
      cacheBase: lastEventId,
      isCacheComplete: true,
      lastEventId,
      stream: null,
      isEnded: false,
      state: 'connecting',
      detail: {},
    };
    this.feeds.set(key, feed);
    this.startWaitingFeeds();
    return feed;
  }

  /** Opens feeds without a stream, within the connection budget. */
  startWaitingFeeds() {
    let open = 0;
    for (const feed of this.feeds.values()) if (feed.key !== 'global' && feed.stream && !feed.isEnded) open += 1;
    for (const feed of this.feeds.values()) {
      if (feed.stream || feed.isEnded) continue;
      if (feed.key !== 'global') {
        if (open >= MAX_BUILD_STREAMS) {
          this.setFeedState(feed, 'waiting', {});
          continue;
        }
        open += 1;
      }
      this.openFeed(feed);
    }
  }

  openFeed(feed) {
    feed.stream = new FeedStream({
      client: this.client,
      build: feed.key === 'global' ? undefined : feed.key.slice('build:'.length),
      lastEventId: feed.lastEventId,
      tokens: this.tokens,
      onEvent: (name, id, data) => this.onFeedEvent(feed, { id, event: name, data }),
      onState: (state, detail) => this.setFeedState(feed, state, detail),
    });
    feed.stream.start();
  }

  /** Starts a build feed over from its beginning; its tabs get a reset first. */
  restartFeed(feed) {
    feed.stream?.close();
    Object.assign(feed, { stream: null, cache: [], cacheChars: 0, cacheBase: null, isCacheComplete: true, lastEventId: null, isEnded: false });
    this.dispatch(feed, { id: null, event: 'reset', data: { reason: 'restarted' } });
    this.startWaitingFeeds();
  }

  onFeedEvent(feed, event) {
    if (this.feeds.get(feed.key) !== feed) return;
    if (feed.key !== 'global') this.keep(feed, event);
    feed.lastEventId = event.id || feed.lastEventId;
    this.dispatch(feed, event);
    if (event.event === 'end') {
      // The follow stops at `end` by itself; closing says so at once and frees the stream's slot.
      feed.isEnded = true;
      feed.stream.close('ended');
      this.startWaitingFeeds();
    }
  }

  keep(feed, event) {
    // A `reset` of the server never gets here: the client skips what its replay repeats.
    if (!feed.isCacheComplete) return;
    feed.cache.push(event);
    feed.cacheChars += eventChars(event);
    if (feed.cacheChars > MAX_CACHE_CHARS) Object.assign(feed, { cache: [], cacheChars: 0, isCacheComplete: false });
  }

  /** Hands an event to this tab's subscription and queues it for the other tabs. */
  dispatch(feed, event) {
    const sub = this.subs.get(feed.key);
    if (sub && !sub.isPending && feed.subscribers.has(this.tabId)) this.deliver(sub, event);
    if (!this.channel || !hasOtherTab(feed, this.tabId)) return;
    let queued = this.outbox.get(feed.key);
    if (!queued) {
      queued = [];
      this.outbox.set(feed.key, queued);
    }
    queued.push(event);
    if (queued.length >= RELAY_BATCH_EVENTS) this.flushOutbox(feed.key);
    else if (!this.isFlushQueued) {
      this.isFlushQueued = true;
      this.turn.port2.postMessage(null);
    }
  }

  flushOutbox(key) {
    const events = this.outbox.get(key);
    if (!events || events.length === 0) return;
    this.outbox.delete(key);
    this.post({ type: 'events', key, events });
  }

  flushAll() {
    this.isFlushQueued = false;
    for (const key of [...this.outbox.keys()]) this.flushOutbox(key);
  }

  setFeedState(feed, state, detail) {
    feed.state = state;
    feed.detail = detail;
    const sub = this.subs.get(feed.key);
    if (sub && !sub.isPending && feed.subscribers.has(this.tabId)) sub.onState(state, detail);
    if (hasOtherTab(feed, this.tabId)) {
      this.flushOutbox(feed.key);
      this.post({ type: 'state', key: feed.key, state, detail });
    }
  }
}

/** About the characters of an event as the server sent it: a line's text and ~100 of fields, or a build's record. */
function eventChars(event) {
  return (event.event === 'log' ? event.data.text.length + 100 : 1000) + 64;
}

function hasOtherTab(feed, tabId) {
  return feed.subscribers.size > (feed.subscribers.has(tabId) ? 1 : 0);
}

function findLastIndex(items, predicate) {
  for (let i = items.length - 1; i >= 0; i -= 1) if (predicate(items[i])) return i;
  return -1;
}
