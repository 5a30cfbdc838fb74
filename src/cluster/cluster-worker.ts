import crypto from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isTerminal, type BuildRecord } from '../builds/build-record.js';
import { BuildRun, type BuildRunSettings, type StopReason } from '../builds/build-run.js';
import { killOrphans } from '../builds/orphans.js';
import { readProcessTable } from '../builds/process-table.js';
import { selectExpiredBuilds } from '../builds/retention.js';
import type { Logger } from '../logger.js';
import type { BuildJob } from './cluster-builds.js';
import { parseRecord, type ClusterStore } from './cluster-store.js';
import { LeasedBuildWriter } from './leased-writer.js';
import { removeWorker, writeBeat, type WorkerBeat } from './worker-registry.js';

export const QUEUE_NAME = 'builds';
/** How often a running build's cancel mark is read, beside the pub/sub message that usually comes first. */
const CANCEL_POLL_MS = 1000;

export interface ClusterWorkerSettings extends BuildRunSettings {
  readonly maxConcurrentBuilds: number;
  readonly workerLostMs: number;
  readonly keepBuilds: number;
  readonly keepDays: number;
}

interface ActiveRun {
  readonly run: BuildRun;
  readonly writer: LeasedBuildWriter;
}

/**
 * A process that runs a cluster's builds: takes them from the BullMQ queue (MAX_CONCURRENT_BUILDS
 * at once, first in first out), holds each under a lease of its own, runs it with the same
 * BuildRun as one process, and writes its output to Redis through a LeasedBuildWriter. A
 * heartbeat tells the others it is alive; cancels reach it by pub/sub and by polling the record.
 */
export class ClusterWorker {
  private readonly active = new Map<string, ActiveRun>();
  private readonly startedAt = new Date().toISOString();
  private bullWorker: Worker<BuildJob> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private cancelTimer: NodeJS.Timeout | null = null;
  private beat = 0;
  private isStopping = false;

  constructor(
    private readonly store: ClusterStore,
    /** A connection for BullMQ's blocking commands. */
    private readonly queueConnection: Redis,
    /** A connection for the cancel channel (a subscribed connection does nothing else). */
    private readonly subscriber: Redis,
    private readonly settings: ClusterWorkerSettings,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.settings.workerName;
  }

  async start(): Promise<void> {
    await this.endLeftovers();
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch(() => {}), heartbeatIntervalMs(this.settings.workerLostMs));
    this.cancelTimer = setInterval(() => void this.pollCancels().catch(() => {}), CANCEL_POLL_MS);
    await this.subscriber.subscribe(this.store.keys.cancelChannel);
    this.subscriber.on('message', (_channel: string, buildId: string) => this.cancel(buildId));
    this.bullWorker = new Worker<BuildJob>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.queueConnection,
      prefix: this.store.keys.queuePrefix,
      concurrency: this.settings.maxConcurrentBuilds,
      // A build may deploy: a job whose worker stalled is never run a second time.
      maxStalledCount: 0,
      autorun: true,
    });
    this.bullWorker.on('error', (error) => this.logger.warn({ err: error }, 'the build queue reported an error'));
    this.logger.info({ worker: this.name, maxConcurrentBuilds: this.settings.maxConcurrentBuilds }, 'taking builds from the cluster queue');
  }

  /** Takes no new build, interrupts the running ones, waits until their ends are in Redis, and leaves the list. */
  async shutdown(): Promise<void> {
    this.isStopping = true;
    if (this.cancelTimer) clearInterval(this.cancelTimer);
    const closing = this.bullWorker?.close(true).catch(() => {});
    await this.heartbeat().catch(() => {});
    const stop: StopReason = { status: 'interrupted', cause: `the worker ${this.name} is shutting down` };
    const runs = [...this.active.values()];
    for (const { run } of runs) run.interrupt(stop);
    await Promise.all(runs.map(async ({ run, writer }) => {
      await run.finished;
      await writer.drained();
    }));
    await closing;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await removeWorker(this.store, this.name).catch(() => {});
  }

  private async process(job: Job<BuildJob>): Promise<void> {
    const { buildId } = job.data;
    const token = `${this.name}/${crypto.randomBytes(8).toString('hex')}`;
    const reply = await this.store.claim(buildId, token, this.name);
    if (reply[0] !== 'claimed') return; // cancelled while queued, or deleted
    const record = parseRecord(reply[1]);
    if (this.isStopping) {
      // Taken in the moment the queue was closing: ended here rather than left queued with no job.
      await this.runBuild(record, token, (run) => run.finishUnstarted({ status: 'interrupted', cause: `the worker ${this.name} was shutting down` }));
      return;
    }
    await this.runBuild(record, token, async (run) => {
      if ((await this.store.get(buildId))?.isCancelRequested) run.requestStop(cancelStop());
      await run.run();
    });
    await this.prune().catch((error: unknown) => this.logger.warn({ err: error }, 'pruning builds failed'));
  }

  /** Runs a build this worker holds the lease of, and waits until all it wrote is in Redis. */
  private async runBuild(record: BuildRecord, token: string, drive: (run: BuildRun) => void | Promise<void>): Promise<void> {
    const buildId = record.build.id;
    const writer = new LeasedBuildWriter(this.store, record.build, token, () => this.onFenced(buildId), this.logger);
    const run = new BuildRun(
      record,
      {
        save: (next) => {
          writer.save(next);
          return null;
        },
        events: writer,
        describeStorageFailure: (error) => `Redis refused a write (${error.message})`,
      },
      this.settings,
      this.logger,
      () => {},
    );
    this.active.set(buildId, { run, writer });
    void this.heartbeat().catch(() => {});
    try {
      await drive(run);
      await writer.drained();
    } finally {
      this.active.delete(buildId);
      void this.heartbeat().catch(() => {});
    }
  }

  private cancel(buildId: string): void {
    this.active.get(buildId)?.run.requestStop(cancelStop());
  }

  private async pollCancels(): Promise<void> {
    for (const buildId of this.active.keys()) {
      if ((await this.store.redis.hget(this.store.keys.build(buildId), 'cancel')) === '1') this.cancel(buildId);
    }
  }

  /** Redis says this worker no longer holds the build (declared lost): its processes go, its output is dropped. */
  private onFenced(buildId: string): void {
    this.active.get(buildId)?.run.interrupt({ status: 'interrupted', cause: `the worker ${this.name} no longer holds this build` });
  }

  private async heartbeat(): Promise<void> {
    this.beat += 1;
    const builds = [...this.active.keys()];
    const status = this.isStopping ? 'stopping' : builds.length > 0 ? 'busy' : 'idle';
    const beat: WorkerBeat = { name: this.name, status, builds, maxConcurrentBuilds: this.settings.maxConcurrentBuilds, startedAt: this.startedAt, lastSeenAt: new Date().toISOString(), beat: this.beat };
    await writeBeat(this.store, beat, this.isStopping ? 0 : this.settings.maxConcurrentBuilds - builds.length);
  }

  /**
   * Ends what an earlier process of this name left running (it was killed, or its machine
   * vanished and came back): every process of a build this worker took.
   */
  private async endLeftovers(): Promise<void> {
    const table = readProcessTable();
    if (!table) return;
    const buildIds = new Set(table.map((entry) => entry.buildId).filter((id): id is string => id !== null));
    for (const buildId of buildIds) {
      const stored = await this.store.get(buildId);
      if (!stored || stored.worker !== this.name) continue;
      const killed = killOrphans({ id: buildId, projectPath: stored.record.build.projectPath, processGroup: null }, table);
      if (killed > 0) this.logger.warn({ build: buildId, processes: killed }, 'ended processes an earlier worker of this name left running');
    }
  }

  /** Retention (KEEP_BUILDS, KEEP_DAYS) for the whole cluster, after each build as on one process. */
  private async prune(): Promise<void> {
    const builds = await this.store.all();
    const expired = selectExpiredBuilds(builds.filter((build) => isTerminal(build.status)), this.settings, Date.now());
    await this.store.delete(expired);
    if (expired.length > 0) this.logger.info({ builds: expired.length }, 'deleted builds that retention no longer keeps');
  }
}

/** A heartbeat often enough that a few lost ones never make a live worker look lost. */
export function heartbeatIntervalMs(workerLostMs: number): number {
  return Math.max(50, Math.min(2000, Math.floor(workerLostMs / 5)));
}

function cancelStop(): StopReason {
  return { status: 'cancelled', cause: 'cancel requested' };
}
