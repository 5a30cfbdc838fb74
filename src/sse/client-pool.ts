import type { FeedAppend } from '../events/feed.js';
import { encodeComment } from './encode-frame.js';
import type { CloseReason, SseConnection } from './sse-connection.js';

/** Counters read by the metrics endpoint. */
export interface PoolStats {
  /** Refused because the pool was full. */
  rejected: number;
  /** Refused because the client's address held its share of the pool. */
  rejectedPerAddress: number;
  slowDropped: number;
  /** Bytes written to connections that have closed (see bytesSent()). */
  closedBytesSent: number;
}

/** What reserve() answers. */
export type Reservation = 'reserved' | 'address_full' | 'pool_full';

/**
 * The capped set of open SSE connections, grouped by feed so that a flush is written only to
 * the clients of that feed. A slot is reserved before a connection is set up (which may wait
 * on disk) so the cap holds under concurrent connects, and freed the moment it closes. Each
 * client address may hold at most maxPerAddress slots, so that one client cannot take them all.
 */
export class ClientPool {
  private readonly byFeed = new Map<string, Set<SseConnection>>();
  private reserved = 0;
  private readonly byAddress = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  readonly stats: PoolStats = { rejected: 0, rejectedPerAddress: 0, slowDropped: 0, closedBytesSent: 0 };

  constructor(
    private readonly maxClients: number,
    private readonly heartbeatMs: number,
    /** Slots one client address may hold; 0 = no limit of its own. */
    private readonly maxPerAddress = 0,
  ) {}

  /** Open connections plus slots reserved for connections being set up. */
  get size(): number {
    return this.reserved;
  }

  /** Slots held by one client address. */
  heldBy(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /**
   * Takes a slot for a client address, or says why not (and counts the refusal). The
   * address's own cap is checked first: a client over its share is told so, whether or not
   * the pool is full.
   */
  reserve(address: string): Reservation {
    const held = this.heldBy(address);
    if (this.maxPerAddress > 0 && held >= this.maxPerAddress) {
      this.stats.rejectedPerAddress += 1;
      return 'address_full';
    }
    if (this.reserved >= this.maxClients) {
      this.stats.rejected += 1;
      return 'pool_full';
    }
    this.reserved += 1;
    this.byAddress.set(address, held + 1);
    return 'reserved';
  }

  /** Gives back a slot that was reserved but never used. */
  unreserve(address: string): void {
    this.reserved -= 1;
    const held = this.heldBy(address) - 1;
    if (held > 0) this.byAddress.set(address, held);
    else this.byAddress.delete(address);
  }

  /** Adds a connection into a slot reserved for its address; the slot frees itself when the connection closes. */
  add(connection: SseConnection, address: string): void {
    const key = connection.feedKey;
    let clients = this.byFeed.get(key);
    if (!clients) {
      clients = new Set();
      this.byFeed.set(key, clients);
    }
    clients.add(connection);
    connection.onClose((reason) => this.remove(connection, reason, address));
    this.startHeartbeat();
  }

  /** Bytes written to every client so far, open or closed. */
  bytesSent(): number {
    let total = this.stats.closedBytesSent;
    for (const clients of this.byFeed.values()) for (const client of clients) total += client.bytesWritten;
    return total;
  }

  /** Writes what a flush appended to every live client of each feed. */
  deliver(appends: readonly FeedAppend[]): void {
    for (const append of appends) {
      const clients = this.byFeed.get(append.feed);
      if (!clients) continue;
      for (const client of clients) client.deliver(append);
    }
  }

  /** Ends every stream after what it was already sent, and stops the heartbeat. */
  endAll(reason: CloseReason): void {
    this.stopHeartbeat();
    for (const clients of [...this.byFeed.values()]) {
      for (const client of [...clients]) client.end(reason);
    }
  }

  private remove(connection: SseConnection, reason: CloseReason, address: string): void {
    const clients = this.byFeed.get(connection.feedKey);
    if (!clients?.delete(connection)) return;
    if (clients.size === 0) this.byFeed.delete(connection.feedKey);
    this.unreserve(address);
    this.stats.closedBytesSent += connection.bytesWritten;
    if (reason === 'slow' || reason === 'truncated') this.stats.slowDropped += 1;
    if (this.reserved === 0) this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    // One timer for the whole pool: the comment is encoded once per beat, and no timer
    // is left behind by any one connection.
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private beat(): void {
    const comment = Buffer.from(encodeComment(`ping ${new Date().toISOString()}`));
    for (const clients of this.byFeed.values()) {
      for (const client of clients) client.ping(comment);
    }
  }
}
