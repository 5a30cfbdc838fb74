import type { Queue } from 'bullmq';
import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError } from '../builds/build-errors.js';
import { isTerminal, newBuild, newBuildId, snapshot, type Build, type BuildRecord, type BuildStatus } from '../builds/build-record.js';
import { BuildRun, type BuildRunSettings, type StopReason } from '../builds/build-run.js';
import type { Builds } from '../builds/builds-port.js';
import type { WorkerInfo } from '../builds/worker-info.js';
import type { NewEvent } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import { eventBody, parseRecord, type ClusterStore } from './cluster-store.js';
import type { RedisHealth } from './redis-health.js';
import { readWorkers } from './worker-registry.js';

export interface ClusterBuildsSettings {
  readonly maxQueuedBuilds: number;
  readonly workerLostMs: number;
  readonly run: BuildRunSettings;
}

/** The data of the one BullMQ job a build gets; its job id is the build id. */
export interface BuildJob {
  readonly buildId: string;
}

/**
 * The builds of a cluster as an API process serves them: every answer comes from Redis, so
 * any process answers for any build. A POST is admitted in one script (Idempotency-Key, the
 * project's lock, the cluster-wide queue limit) and then queued in BullMQ; a cancel ends a
 * queued build here, or asks the worker that runs it.
 */
export class ClusterBuilds implements Builds {
  constructor(
    private readonly store: ClusterStore,
    private readonly queue: Queue<BuildJob>,
    private readonly health: RedisHealth,
    private readonly settings: ClusterBuildsSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async get(id: string): Promise<Build> {
    this.health.assertAvailable();
    const stored = await this.store.get(id);
    if (!stored) throw new BuildNotFoundError(id);
    return stored.record.build;
  }

  async list(limit: number): Promise<Build[]> {
    this.health.assertAvailable();
    return this.store.list(limit);
  }

  async findByIdempotencyKey(key: string): Promise<Build | null> {
    this.health.assertAvailable();
    const id = await this.store.redis.get(this.store.keys.idempotency(key));
    if (id === null) return null;
    return (await this.store.get(id))?.record.build ?? null;
  }

  async create(projectPath: string, idempotencyKey: string | null): Promise<{ build: Build; isNew: boolean }> {
    this.health.assertAvailable();
    const nowMs = this.now();
    const record: BuildRecord = { build: newBuild(newBuildId(nowMs), projectPath, new Date(nowMs)), idempotencyKey, isHistorySealed: true };
    const reply = await this.store.admit(record, this.settings.maxQueuedBuilds, eventBody({ buildId: record.build.id, event: 'build', data: { build: snapshot(record.build) } }));
    if (reply[0] === 'existing') return { build: parseRecord(reply[1]).build, isNew: false };
    if (reply[0] === 'busy') throw new AlreadyBuildingError(parseRecord(reply[1]).build);
    if (reply[0] === 'full') throw new QueueFullError(this.settings.maxQueuedBuilds);
    await this.queue.add('build', { buildId: record.build.id }, { jobId: record.build.id, removeOnComplete: true, removeOnFail: true });
    this.logger.info({ build: record.build.id, projectPath }, 'build queued in the cluster');
    return { build: snapshot(record.build), isNew: true };
  }

  async cancel(id: string): Promise<Build> {
    this.health.assertAvailable();
    const stored = await this.store.get(id);
    if (!stored) throw new BuildNotFoundError(id);
    const { build } = stored.record;
    if (isTerminal(build.status)) throw new NotRunningError(build);
    if (stored.lease === 'queued') {
      const cancelled = await this.cancelQueued(stored.record);
      if (cancelled) return cancelled;
    }
    await this.store.requestCancel(id);
    return build;
  }

  /**
   * Queues again the builds that are queued in Redis but have no job (their API process died
   * between admitting and queueing them): BullMQ takes a job id once, so a build that has its
   * job is left as it is.
   */
  async requeueOrphans(minAgeMs: number): Promise<void> {
    if (!this.health.isAvailable) return;
    for (const buildId of await this.store.redis.smembers(this.store.keys.queued)) {
      const stored = await this.store.get(buildId);
      if (!stored || stored.lease !== 'queued' || this.now() - Date.parse(stored.record.build.createdAt) < minAgeMs) continue;
      if (await this.queue.getJob(buildId)) continue;
      this.logger.warn({ build: buildId }, 'a queued build had no job in the queue; queued it again');
      await this.queue.add('build', { buildId }, { jobId: buildId, removeOnComplete: true, removeOnFail: true });
    }
  }

  async workers(): Promise<WorkerInfo[]> {
    this.health.assertAvailable();
    return readWorkers(this.store, this.settings.workerLostMs, this.now());
  }

  async countByStatus(): Promise<Map<BuildStatus, number>> {
    const counts = new Map<BuildStatus, number>();
    if (!this.health.isAvailable) return counts;
    for (const build of await this.store.all()) counts.set(build.status, (counts.get(build.status) ?? 0) + 1);
    return counts;
  }

  /**
   * Ends a build no worker has taken, with the same events one process writes (BuildRun's own
   * ending), in one write that holds only while it is still queued; null when a worker took it.
   */
  private async cancelQueued(record: BuildRecord): Promise<Build | null> {
    const events: NewEvent[] = [];
    let saved: BuildRecord = record;
    let settle: (isStored: boolean) => void = () => {};
    const committed = new Promise<boolean>((resolve) => (settle = resolve));
    const stop: StopReason = { status: 'cancelled', cause: 'cancel requested' };
    const run = new BuildRun(
      structuredClone(record),
      {
        save: (next) => {
          saved = structuredClone(next);
          return null;
        },
        // The events and the record go in the one write below.
        events: {
          append: (event) => {
            events.push(event);
            return committed;
          },
          seal: () => true,
        },
        describeStorageFailure: (error) => error.message,
      },
      this.settings.run,
      this.logger,
      () => {},
      this.now,
    );
    run.finishUnstarted(stop);
    // Batch 1: a queued build has had no batch yet, so a resent write is known as such ('dup').
    const reply = await this.store.commit(saved, { expectedLease: 'queued', newLease: 'done', batch: 1, record: saved, isEnd: true, events: events.map(eventBody) }).catch((error: unknown) => {
      settle(false);
      throw error;
    });
    const isApplied = reply === 'ok' || reply === 'dup';
    settle(isApplied);
    if (!isApplied) return null;
    await this.queue.remove(record.build.id).catch(() => 0);
    return snapshot(saved.build);
  }
}
