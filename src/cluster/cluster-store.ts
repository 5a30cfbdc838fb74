import crypto from 'node:crypto';
import type { Build, BuildRecord } from '../builds/build-record.js';
import type { NewEvent } from '../events/event-log.js';
import { encodeFrameBody } from '../sse/encode-frame.js';
import type { ClusterKeys } from './cluster-keys.js';
import type { AdmitReply, ClaimReply, CommitReply } from './lua-scripts.js';
import type { ClusterRedis } from './redis-client.js';

/** The contract keeps at least the last 10,000 global events; ends and trimming slack on top. */
export const EVENTS_STREAM_LENGTH = 20000;
const IDEMPOTENCY_TTL_S = 24 * 60 * 60;

/** One event as the scripts take it: its name and its frame without the id line. */
export type EventBody = readonly [name: string, body: string];

export function eventBody(event: NewEvent): EventBody {
  return [event.event, encodeFrameBody({ event: event.event, data: JSON.stringify(event.data) })];
}

/** A write to a build under its lease (see lua-scripts.ts, COMMIT). */
export interface BuildWrite {
  readonly expectedLease: string;
  /** The lease after the write; null keeps it. */
  readonly newLease?: string | null;
  /** The writer's batch number for retries (0: not retried). */
  readonly batch?: number;
  readonly record?: BuildRecord | null;
  readonly isEnd?: boolean;
  readonly events: readonly EventBody[];
}

/** A build's record with the fields only the cluster keeps beside it. */
export interface StoredBuild {
  readonly record: BuildRecord;
  readonly lease: string;
  /** The worker that took it, once one did. */
  readonly worker: string | null;
  readonly isCancelRequested: boolean;
}

/**
 * The builds of a cluster in Redis: records, leases, the queue's admission, and the writes
 * that append events. Each change is one script (lua-scripts.ts); reads are plain commands.
 */
export class ClusterStore {
  /**
   * Used only if Redis has no epoch (a new or emptied Redis): whoever writes first sets it.
   * New for every call: a process that set the epoch before Redis lost it must not set the same again.
   */
  private get epochCandidate(): string {
    return crypto.randomBytes(5).toString('hex');
  }

  constructor(
    readonly redis: ClusterRedis,
    readonly keys: ClusterKeys,
  ) {}

  async get(id: string): Promise<StoredBuild | null> {
    const [record, lease, worker, cancel] = await this.redis.hmget(this.keys.build(id), 'record', 'lease', 'worker', 'cancel');
    if (!record) return null;
    return { record: parseRecord(record), lease: lease ?? 'done', worker: worker ?? null, isCancelRequested: cancel === '1' };
  }

  /** Newest first. */
  async list(limit: number): Promise<Build[]> {
    const ids = await this.redis.zrevrange(this.keys.builds, 0, limit - 1);
    return this.records(ids);
  }

  /** Every build, newest first (retention, metrics). */
  async all(): Promise<Build[]> {
    return this.records(await this.redis.zrevrange(this.keys.builds, 0, -1));
  }

  async admit(record: BuildRecord, maxQueued: number, buildEvent: EventBody): Promise<AdmitReply> {
    const { id } = record.build;
    const key = record.idempotencyKey;
    const k = this.keys;
    return this.redis.buildlogAdmit(
      key === null ? k.idempotency('') : k.idempotency(key),
      k.project(record.build.projectPath),
      k.queued,
      k.builds,
      k.build(id),
      k.frames(id),
      k.sequence,
      k.events,
      k.epoch,
      k.freeSlots,
      id,
      String(Date.parse(record.build.createdAt)),
      JSON.stringify(record),
      String(maxQueued),
      this.epochCandidate,
      String(EVENTS_STREAM_LENGTH),
      String(IDEMPOTENCY_TTL_S),
      key === null ? '0' : '1',
      k.buildPrefix,
      ...buildEvent,
    );
  }

  async claim(id: string, token: string, workerName: string): Promise<ClaimReply> {
    return this.redis.buildlogClaim(this.keys.build(id), this.keys.queued, this.keys.running, id, token, workerName);
  }

  async commit(record: BuildRecord | { build: Pick<Build, 'id' | 'projectPath'> }, write: BuildWrite): Promise<CommitReply> {
    const { id, projectPath } = record.build;
    const k = this.keys;
    return this.redis.buildlogCommit(
      k.build(id),
      k.frames(id),
      k.sequence,
      k.events,
      k.epoch,
      k.project(projectPath),
      k.running,
      k.queued,
      id,
      write.expectedLease,
      write.newLease ?? '',
      String(write.batch ?? 0),
      write.record ? JSON.stringify(write.record) : '',
      write.isEnd ? 'end' : '',
      this.epochCandidate,
      String(EVENTS_STREAM_LENGTH),
      ...write.events.flat(),
    );
  }

  /** Marks a build for cancelling and tells its worker now (the worker also polls the mark). */
  async requestCancel(id: string): Promise<void> {
    await this.redis.hset(this.keys.build(id), 'cancel', '1');
    await this.redis.publish(this.keys.cancelChannel, id);
  }

  /** Deletes builds: record, history, listing. */
  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.del(this.keys.build(id), this.keys.frames(id));
    pipeline.zrem(this.keys.builds, ...ids);
    await pipeline.exec();
  }

  async epoch(): Promise<string> {
    const candidate = this.epochCandidate;
    await this.redis.set(this.keys.epoch, candidate, 'NX');
    return (await this.redis.get(this.keys.epoch)) ?? candidate;
  }

  private async records(ids: readonly string[]): Promise<Build[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.build(id), 'record');
    const replies = (await pipeline.exec()) ?? [];
    const builds: Build[] = [];
    for (const [error, value] of replies) if (!error && typeof value === 'string') builds.push(parseRecord(value).build);
    return builds;
  }
}

export function parseRecord(text: string): BuildRecord {
  return JSON.parse(text) as BuildRecord;
}
