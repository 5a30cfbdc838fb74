import type { BuildRecord } from '../builds/build-record.js';
import { endLostBuild, formatSeconds } from '../builds/build-state.js';
import type { Logger } from '../logger.js';
import { eventBody, type ClusterStore } from './cluster-store.js';
import type { RedisHealth } from './redis-health.js';
import { LOST_LISTED_FACTOR, markLost, readBeats, removeWorker } from './worker-registry.js';

const CHECK_EVERY_MS = 500;
/** A check that comes later than this after the previous one (a stalled process) adds no age. */
const MAX_COUNTED_GAP_MS = 2000;

interface Watched {
  /** The worker's start and beat count: a new process of the same name is a new worker. */
  signature: string;
  /** Time this process has watched the beat not change, while it reached Redis. */
  unchangedMs: number;
}

/**
 * Judges which workers are lost and ends their builds `interrupted`. A heartbeat's age is
 * counted here, by watching its beat counter not change, and only across checks that reached
 * Redis one after the other: a Redis stall (or a stall of this process) makes no worker
 * lost by itself, and no clock of another machine is trusted. Every API process runs one; each
 * ending is one write that holds only while the lost worker's lease does, so two judges never
 * end a build twice, and the lost worker can never write to it again.
 */
export class LostWorkerReaper {
  private readonly watched = new Map<string, Watched>();
  /** Running builds whose worker has no heartbeat at all (it died before its first). */
  private readonly orphanedMs = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lastCheckAt: number | null = null;
  private isChecking = false;

  constructor(
    private readonly store: ClusterStore,
    private readonly health: RedisHealth,
    private readonly workerLostMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round: age the heartbeats, declare the lost, end their builds. */
  async check(): Promise<void> {
    if (this.isChecking) return;
    this.isChecking = true;
    try {
      await this.checkOnce();
    } catch (error) {
      this.lastCheckAt = null; // a failed round breaks the chain: the next adds no age
      this.logger.debug({ err: error }, 'judging workers failed; judging again');
    } finally {
      this.isChecking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    if (!this.health.isAvailable) {
      this.lastCheckAt = null;
      return;
    }
    const beats = await readBeats(this.store);
    const nowMs = this.now();
    const gap = this.lastCheckAt === null ? 0 : nowMs - this.lastCheckAt;
    const counted = gap > MAX_COUNTED_GAP_MS ? 0 : gap;
    this.lastCheckAt = nowMs;

    const lost = new Set<string>();
    for (const [name, beat] of beats) {
      const seen = this.watched.get(name);
      const signature = `${beat.startedAt}#${beat.beat}`;
      if (!seen || seen.signature !== signature) this.watched.set(name, { signature, unchangedMs: 0 });
      else seen.unchangedMs += counted;
      const unchangedMs = this.watched.get(name)!.unchangedMs;
      if (beat.status === 'lost') {
        lost.add(name);
        if (unchangedMs > this.workerLostMs * LOST_LISTED_FACTOR) await removeWorker(this.store, name);
        continue;
      }
      if (unchangedMs <= this.workerLostMs) continue;
      this.logger.warn({ worker: name, silentMs: unchangedMs }, `worker ${name} is lost: no heartbeat for ${formatSeconds(unchangedMs)}`);
      await markLost(this.store, beat);
      lost.add(name);
    }
    for (const name of this.watched.keys()) if (!beats.has(name)) this.watched.delete(name);

    const running = await this.store.redis.smembers(this.store.keys.running);
    for (const buildId of running) {
      const stored = await this.store.get(buildId);
      if (!stored || stored.worker === null) continue;
      const beat = beats.get(stored.worker);
      if (beat && !lost.has(stored.worker)) {
        this.orphanedMs.delete(buildId);
        continue;
      }
      if (!beat) {
        // Its worker left the list without ending it: judged like a silent heartbeat.
        const silent = (this.orphanedMs.get(buildId) ?? 0) + counted;
        this.orphanedMs.set(buildId, silent);
        if (silent <= this.workerLostMs) continue;
      }
      this.orphanedMs.delete(buildId);
      await this.interrupt(stored.record, stored.lease, stored.worker);
    }
  }

  /** Ends a lost worker's build: a system line naming the worker, then `build` and `end`, fenced by its lease. */
  private async interrupt(record: BuildRecord, lease: string, worker: string): Promise<void> {
    const cause = `its worker ${worker} was lost (no heartbeat for over ${formatSeconds(this.workerLostMs)})`;
    const { record: ended, events } = endLostBuild(record, cause, this.now());
    const { build } = ended;
    const reply = await this.store.commit(ended, { expectedLease: lease, newLease: 'lost', record: ended, isEnd: true, events: events.map(eventBody) });
    if (reply === 'ok') this.logger.warn({ build: build.id, worker }, `build ${build.id} interrupted: its worker ${worker} was lost`);
  }
}
