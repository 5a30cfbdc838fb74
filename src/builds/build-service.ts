import type { BuildEventWriter } from '../events/build-event-writer.js';
import type { BuildHistories } from '../events/build-histories.js';
import type { Logger } from '../logger.js';
import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError, ShuttingDownError } from './build-errors.js';
import { BuildQueue } from './build-queue.js';
import {
  isTerminal,
  newBuild,
  newBuildId,
  snapshot,
  type Build,
  type BuildRecord,
  type BuildStatus,
} from './build-record.js';
import { appendEvent, BuildRun, type BuildRunSettings, type BuildRunSink, type StopReason } from './build-run.js';
import { endLostBuild } from './build-state.js';
import type { BuildStore } from './build-store.js';
import { killOrphans } from './orphans.js';
import { readProcessTable, type ProcessEntry } from './process-table.js';
import { selectExpiredBuilds } from './retention.js';
import type { WorkerInfo } from './worker-info.js';

export { verdictLine, STOP_DEADLINE_MS } from './build-run.js';

/** The contract: a repeated POST with the same Idempotency-Key within 24 hours gets the same build. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The contract: pruning runs at least every 10 minutes (and at start-up, and after each build). */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface BuildServiceSettings extends BuildRunSettings {
  readonly maxConcurrentBuilds: number;
  readonly maxQueuedBuilds: number;
  /** Finished builds kept per project (KEEP_BUILDS); 0 = no limit. */
  readonly keepBuilds: number;
  /** Finished builds older than this are deleted (KEEP_DAYS); 0 = no limit. */
  readonly keepDays: number;
}

/** Told when a build reaches its final status (metrics). */
export type BuildFinishedListener = (build: Build) => void;

/**
 * The builds of one process, from request to verdict: creates them, queues them, runs each
 * (BuildRun), keeps their records and Idempotency-Keys, repairs what a crash left, and
 * deletes what retention no longer keeps.
 */
export class BuildService {
  private readonly active = new Map<string, BuildRun>();
  private readonly activeByProject = new Map<string, BuildRun>();
  private readonly idempotency = new Map<string, { buildId: string; createdAtMs: number }>();
  private readonly queue: BuildQueue<BuildRun>;
  private readonly finishedListeners = new Set<BuildFinishedListener>();
  private readonly startedAt: string;
  private pruneTimer: NodeJS.Timeout | null = null;
  private isShuttingDown = false;

  constructor(
    private readonly store: BuildStore,
    private readonly histories: BuildHistories,
    private readonly settings: BuildServiceSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = new Date(now()).toISOString();
    this.queue = new BuildQueue(settings.maxConcurrentBuilds, settings.maxQueuedBuilds, (run) => void this.start(run));
  }

  onFinished(listener: BuildFinishedListener): void {
    this.finishedListeners.add(listener);
  }

  /**
   * Loads the stored builds and deletes what retention no longer keeps: a build found running
   * or queued becomes `interrupted` (what it left running is ended), and a history that lacks
   * its `end` (a crash) gets it, so that every stored build replays whole. A finished build
   * whose record says its history is sealed is not opened at all, so start-up costs little
   * more than reading the records that are kept. Then prunes every PRUNE_INTERVAL_MS.
   */
  async recover(): Promise<void> {
    const { problems } = this.store.load();
    for (const problem of problems) this.logger.warn(problem);
    this.prune();
    let processTable: ProcessEntry[] | null | undefined;
    const readTableOnce = () => (processTable === undefined ? (processTable = readProcessTable()) : processTable);
    for (const record of this.store.list(Number.MAX_SAFE_INTEGER)) {
      this.rememberIdempotencyKey(record);
      if (isTerminal(record.build.status) && record.isHistorySealed) continue;
      try {
        await this.repair(record, readTableOnce);
      } catch (error) {
        this.logger.warn({ build: record.build.id, err: error }, 'could not repair a stored build; it is listed as stored');
      }
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  get(id: string): Build {
    const record = this.store.get(id);
    if (!record) throw new BuildNotFoundError(id);
    return snapshot(record.build);
  }

  list(limit: number): Build[] {
    return this.store.list(limit).map((record) => snapshot(record.build));
  }

  /** How many builds have each status (for metrics; no copies made). */
  countByStatus(): Map<BuildStatus, number> {
    const counts = new Map<BuildStatus, number>();
    for (const build of this.store.builds()) counts.set(build.status, (counts.get(build.status) ?? 0) + 1);
    return counts;
  }

  /** This process as the one worker of GET /api/workers. */
  workers(): WorkerInfo[] {
    const builds = [...this.active.values()].filter((run) => run.record.build.status === 'running').map((run) => run.id);
    const status = this.isShuttingDown ? 'stopping' : builds.length > 0 ? 'busy' : 'idle';
    const nowIso = new Date(this.now()).toISOString();
    return [{ name: this.settings.workerName, status, builds, maxConcurrentBuilds: this.settings.maxConcurrentBuilds, startedAt: this.startedAt, lastSeenAt: nowIso }];
  }

  /** The build an earlier POST with this Idempotency-Key started, if it is recent enough. */
  findByIdempotencyKey(key: string): Build | null {
    const entry = this.idempotency.get(key);
    if (!entry || this.now() - entry.createdAtMs > IDEMPOTENCY_WINDOW_MS) return null;
    const record = this.store.get(entry.buildId);
    return record ? snapshot(record.build) : null;
  }

  /** Queues a build of a checked project folder; an existing build when the key was seen. */
  create(projectPath: string, idempotencyKey: string | null): { build: Build; isNew: boolean } {
    if (idempotencyKey !== null) {
      const existing = this.findByIdempotencyKey(idempotencyKey);
      if (existing) return { build: existing, isNew: false };
    }
    if (this.isShuttingDown) throw new ShuttingDownError();
    const current = this.activeByProject.get(projectPath);
    if (current) throw new AlreadyBuildingError(snapshot(current.record.build));
    if (!this.queue.hasRoom) throw new QueueFullError(this.settings.maxQueuedBuilds);

    const nowMs = this.now();
    const record: BuildRecord = { build: newBuild(newBuildId(nowMs), projectPath, new Date(nowMs)), idempotencyKey, isHistorySealed: false };
    const { id } = record.build;
    // A history the disk refuses fails the build; it goes on in memory, so its readers miss nothing.
    const events = this.histories.createBuild(id, (error) => this.active.get(id)?.storageFailed(error));
    const run = this.newRun(record, events);
    this.active.set(id, run);
    this.activeByProject.set(projectPath, run);
    this.rememberIdempotencyKey(record);
    const saveError = this.store.add(record);
    appendEvent(events, { buildId: id, event: 'build', data: { build: snapshot(record.build) } }, this.logger);
    if (saveError) run.storageFailed(saveError);
    this.queue.add(run);
    return { build: snapshot(record.build), isNew: true };
  }

  /**
   * Cancels a queued or running build; all of its processes are ended and it ends `cancelled`.
   * A build whose last step has exited is over as far as a cancel goes (contract, Races).
   */
  cancel(id: string): Build {
    const run = this.active.get(id);
    if (!run) {
      const record = this.store.get(id);
      if (!record) throw new BuildNotFoundError(id);
      throw new NotRunningError(snapshot(record.build));
    }
    const stop: StopReason = { status: 'cancelled', cause: 'cancel requested' };
    if (this.queue.remove(run)) run.finishUnstarted(stop);
    // One look decides: the last step's process may exit between two looks at /proc.
    else if (!run.requestStop(stop)) throw new NotRunningError(snapshot(run.record.build));
    return snapshot(run.record.build);
  }

  /** Refuses new builds, interrupts the queued and running ones, and waits until each has ended. */
  async shutdown(): Promise<void> {
    this.isShuttingDown = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    const stop: StopReason = { status: 'interrupted', cause: 'the server is shutting down' };
    for (const run of [...this.queue.waitingJobs]) {
      this.queue.remove(run);
      run.finishUnstarted(stop);
    }
    const running = [...this.active.values()];
    // One whose last step exited keeps its verdict, but shutdown waits no longer for its leftovers.
    for (const run of running) run.interrupt(stop);
    await Promise.all(running.map((run) => run.finished));
    this.retryUnsavedRecords();
    await this.store.settled();
  }

  /**
   * Deletes the finished builds that retention no longer keeps (KEEP_DAYS, KEEP_BUILDS), from
   * disk and from memory, and forgets Idempotency-Keys past their 24 hours.
   */
  prune(): void {
    const expired = selectExpiredBuilds(this.store.builds(), this.settings, this.now()).filter((id) => !this.active.has(id));
    for (const id of expired) this.histories.deleteBuild(id);
    this.store.delete(expired);
    if (expired.length > 0) this.logger.info({ builds: expired.length }, 'deleted builds that retention no longer keeps');
    const oldestKeyMs = this.now() - IDEMPOTENCY_WINDOW_MS;
    for (const [key, entry] of this.idempotency) {
      if (entry.createdAtMs < oldestKeyMs || !this.store.get(entry.buildId)) this.idempotency.delete(key);
    }
    this.retryUnsavedRecords();
  }

  /** Writes the records the disk refused, now that it may have room again. */
  private retryUnsavedRecords(): void {
    if (this.store.unsavedCount === 0) return;
    const error = this.store.retryUnsaved();
    if (!error) {
      this.logger.info('wrote the build records that DATA_DIR had refused');
      return;
    }
    this.logger.error({ err: error, records: this.store.unsavedCount }, 'DATA_DIR still refuses build records; they are kept in memory and written once it has room');
  }

  private newRun(record: BuildRecord, events: BuildEventWriter): BuildRun {
    const sink: BuildRunSink = {
      save: (next) => this.saveRecord(next),
      events,
      describeStorageFailure: (error) => `DATA_DIR refused a write (${error.message})`,
    };
    return new BuildRun(record, sink, this.settings, this.logger, (run) => this.onRunEnded(run), this.now);
  }

  private async start(run: BuildRun): Promise<void> {
    await run.run();
    this.queue.finished();
  }

  private onRunEnded(run: BuildRun): void {
    const { build } = run.record;
    this.active.delete(build.id);
    if (this.activeByProject.get(build.projectPath) === run) this.activeByProject.delete(build.projectPath);
    for (const listener of this.finishedListeners) listener(snapshot(build));
    this.prune();
  }

  private async repair(record: BuildRecord, processTable: () => ProcessEntry[] | null): Promise<void> {
    const { build } = record;
    if (!isTerminal(build.status) || record.processGroup) {
      const killed = killOrphans({ id: build.id, projectPath: build.projectPath, processGroup: record.processGroup ?? null }, processTable());
      if (killed > 0) this.logger.warn({ build: build.id, processes: killed }, 'ended processes left running by the previous server');
      record.processGroup = null;
    }
    const history = await this.histories.reopenBuild(build.id);
    if (history.end) {
      // The history ended but the record was not saved after it (a crash in between).
      if (!isTerminal(build.status)) record.build = history.end.build;
      record.isHistorySealed = true;
      this.store.save(record);
      return;
    }
    const { record: ended, events } = endLostBuild(record, 'the server stopped while it was running', this.now());
    Object.assign(record, ended);
    for (const event of events) appendEvent(history.writer, event, this.logger);
    record.isHistorySealed = history.writer.seal();
    this.saveRecord(record);
  }

  private saveRecord(record: BuildRecord): Error | null {
    const error = this.store.save(record);
    if (error) this.logger.error({ build: record.build.id, err: error }, 'cannot write a build record to DATA_DIR');
    return error;
  }

  private rememberIdempotencyKey(record: BuildRecord): void {
    if (record.idempotencyKey === null) return;
    this.idempotency.set(record.idempotencyKey, { buildId: record.build.id, createdAtMs: Date.parse(record.build.createdAt) });
  }
}
