import { BuildNotFoundError } from '../builds/build-errors.js';
import { isTerminal } from '../builds/build-record.js';
import type { ResetEventData } from '../events/event-data.js';
import { formatEventId, parseEventId } from '../events/event-id.js';
import type { EventStreams, StreamFinished, StreamStart } from '../events/event-log.js';
import { GLOBAL_FEED, type FeedAppend } from '../events/feed.js';
import type { Logger } from '../logger.js';
import { encodeFrame } from '../sse/encode-frame.js';
import { ClusterBuildFeed, ClusterGlobalFeed, parseEntries, type StreamEntry } from './cluster-feeds.js';
import { FrameChunkCache } from './frame-chunk-cache.js';
import { parseRecord, type ClusterStore } from './cluster-store.js';
import type { ClusterRedis } from './redis-client.js';
import type { RedisHealth } from './redis-health.js';

/** How long one blocking read waits for new events; between two, the epoch is checked. */
const BLOCK_MS = 2000;
/** Entries per blocking read: a few MB at most of typical lines, and bounded for long ones. */
const ENTRIES_PER_READ = 256;
const RESET_DATA = JSON.stringify({ reason: 'history_truncated' } satisfies ResetEventData);

/**
 * The streams of a cluster as one API process serves them. One blocking XREAD on a connection
 * of its own follows the cluster's event stream (never one per client: a blocking read holds
 * its whole connection) and hands each batch to the pool, for the global feed and for each
 * build that has readers here. Catching up reads Redis directly (cluster-feeds.ts), so an id
 * from any process resumes here. A Redis that came back empty has a new epoch: every stream
 * here is ended, and clients that come back with an old id get `reset`.
 */
export class ClusterEventLog implements EventStreams {
  private epoch = '';
  private lastEntryId = '0-0';
  private liveHead = 0;
  private readonly global: ClusterGlobalFeed;
  private readonly chunks: FrameChunkCache;
  private readonly builds = new Map<string, ClusterBuildFeed>();
  private readonly appendListeners = new Set<(appends: readonly FeedAppend[]) => void>();
  private readonly resetListeners = new Set<() => void>();
  private isClosed = false;
  eventsAppended = 0;

  constructor(
    /** A connection for this log's blocking reads alone. */
    private readonly reader: ClusterRedis,
    private readonly store: ClusterStore,
    private readonly health: RedisHealth,
    private readonly logger: Logger,
  ) {
    this.global = new ClusterGlobalFeed(store.redis, store.keys, () => this.liveHead);
    this.chunks = new FrameChunkCache(store.redis);
  }

  async start(): Promise<void> {
    this.epoch = await this.store.epoch();
    await this.startAtHead();
    void this.follow();
  }

  onAppend(listener: (appends: readonly FeedAppend[]) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Told when Redis turned out to have lost its data (a new epoch): every open stream must end. */
  onReset(listener: () => void): void {
    this.resetListeners.add(listener);
  }

  async openGlobalStream(lastEventId: string | null): Promise<StreamStart> {
    this.health.assertAvailable();
    const release = () => {};
    if (lastEventId === null) return { feed: this.global, from: this.global.head(), preamble: null, release };
    const id = parseEventId(lastEventId);
    const [oldest, newest] = await Promise.all([this.oldestKept(), this.store.redis.get(this.store.keys.sequence).then(Number)]);
    if (id && id.boot === this.epoch && id.global >= oldest - 1 && id.global <= newest) {
      this.global.noteSeen(id.global);
      return { feed: this.global, from: id.global, preamble: null, release };
    }
    const from = Math.max(0, oldest - 1);
    this.global.noteSeen(from);
    return { feed: this.global, from, preamble: resetFrame(formatEventId({ boot: this.epoch, global: from, build: 0 })), release };
  }

  async openBuildStream(buildId: string, lastEventId: string | null): Promise<StreamStart | StreamFinished> {
    this.health.assertAvailable();
    const feed = this.attach(buildId);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.detach(feed);
    };
    try {
      const [count, record] = await this.store.redis.hmget(this.store.keys.build(buildId), 'n', 'record');
      if (!record) throw new BuildNotFoundError(buildId);
      feed.noteHead(Number(count ?? 0), isTerminal(parseRecord(record).build.status));
      if (lastEventId === null) return { feed, from: 0, preamble: null, release };
      const from = await this.positionAfter(buildId, lastEventId, feed.head());
      if (from === null) return { feed, from: 0, preamble: resetFrame(formatEventId({ boot: this.epoch, global: 0, build: 0 })), release };
      if (feed.isComplete() && from === feed.head()) {
        release();
        return { isFinished: true };
      }
      return { feed, from, preamble: null, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  close(): void {
    this.isClosed = true;
    this.reader.disconnect();
  }

  /** Where a build's stream resumes after an id: only an id that names that build's event exactly. */
  private async positionAfter(buildId: string, lastEventId: string, head: number): Promise<number | null> {
    const id = parseEventId(lastEventId);
    if (!id || id.boot !== this.epoch || id.build < 1 || id.build > head) return null;
    const frame = await this.store.redis.lindexBuffer(this.store.keys.frames(buildId), id.build - 1);
    return frame?.subarray(0, lastEventId.length + 5).toString() === `id: ${lastEventId}\n` ? id.build : null;
  }

  private async oldestKept(): Promise<number> {
    const first = (await this.store.redis.xrange(this.store.keys.events, '-', '+', 'COUNT', 1))[0];
    return first ? Number.parseInt(first[0], 10) : Number((await this.store.redis.get(this.store.keys.sequence)) ?? 0) + 1;
  }

  private async startAtHead(): Promise<void> {
    const last = (await this.store.redis.xrevrange(this.store.keys.events, '+', '-', 'COUNT', 1))[0];
    this.lastEntryId = last ? last[0] : '0-0';
    this.liveHead = last ? Number.parseInt(last[0], 10) : 0;
  }

  private attach(buildId: string): ClusterBuildFeed {
    let feed = this.builds.get(buildId);
    if (!feed) {
      feed = new ClusterBuildFeed(buildId, this.store.redis, this.store.keys, this.chunks);
      this.builds.set(buildId, feed);
    }
    feed.readers += 1;
    return feed;
  }

  private detach(feed: ClusterBuildFeed): void {
    feed.readers -= 1;
    if (feed.readers === 0 && this.builds.get(feed.key) === feed) this.builds.delete(feed.key);
  }

  private async follow(): Promise<void> {
    while (!this.isClosed) {
      try {
        const reply = (await this.reader.xreadBuffer('COUNT', ENTRIES_PER_READ, 'BLOCK', BLOCK_MS, 'STREAMS', this.store.keys.events, this.lastEntryId)) as
          | Array<[Buffer, Array<[Buffer, Buffer[]]>]>
          | null;
        this.health.noteAnswer();
        if (reply && reply[0]) this.dispatch(parseEntries(reply[0][1]));
        else await this.checkEpoch();
      } catch (error) {
        if (this.isClosed) return;
        this.logger.debug({ err: error }, 'reading the cluster event stream failed; reading again');
        await new Promise((resolve) => setTimeout(resolve, 200));
        await this.checkEpoch().catch(() => {});
      }
    }
  }

  /** A Redis restarted without its data starts counting again; a new epoch tells so. */
  private async checkEpoch(): Promise<void> {
    const epoch = await this.store.epoch();
    if (epoch === this.epoch) return;
    this.logger.warn({ previous: this.epoch, epoch }, "the cluster's Redis lost its data (new epoch); every stream is ended, and clients resume with a reset");
    this.epoch = epoch;
    this.lastEntryId = '0-0';
    this.liveHead = 0;
    this.global.reset();
    this.builds.clear();
    for (const listener of this.resetListeners) listener();
  }

  private dispatch(entries: readonly StreamEntry[]): void {
    if (entries.length === 0) return;
    const appends: FeedAppend[] = [];
    const globalFrom = this.liveHead;
    const globalFrames: Buffer[] = [];
    const byBuild = new Map<string, { from: number; to: number; frames: Buffer[]; isFinal: boolean }>();
    for (const entry of entries) {
      if (entry.global <= this.liveHead) continue;
      this.liveHead = entry.global;
      this.eventsAppended += 1;
      const isEnd = entry.event === 'end';
      if (!isEnd) globalFrames.push(entry.frame);
      const feed = this.builds.get(entry.buildId);
      if (!feed) continue;
      let group = byBuild.get(entry.buildId);
      if (!group) {
        group = { from: entry.number - 1, to: entry.number, frames: [], isFinal: false };
        byBuild.set(entry.buildId, group);
      }
      group.frames.push(entry.frame);
      group.to = entry.number;
      group.isFinal ||= isEnd;
      feed.noteHead(entry.number, isEnd);
    }
    this.lastEntryId = `${this.liveHead}-0`;
    appends.push({ feed: GLOBAL_FEED, from: globalFrom, to: this.liveHead, data: Buffer.concat(globalFrames), isFinal: false });
    for (const [buildId, group] of byBuild) {
      appends.push({ feed: buildId, from: group.from, to: group.to, data: Buffer.concat(group.frames), isFinal: group.isFinal });
    }
    for (const listener of this.appendListeners) listener(appends);
  }
}

function resetFrame(id: string): string {
  return encodeFrame({ id, event: 'reset', data: RESET_DATA });
}
