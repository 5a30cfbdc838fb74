import fs from 'node:fs';
import path from 'node:path';
import type { EventLog } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import { buildEnvironment, type InheritedEnv } from './build-env.js';
import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError, ShuttingDownError } from './build-errors.js';
import { BuildProcesses, KILL_GRACE_MS } from './build-processes.js';
import { BuildQueue } from './build-queue.js';
import {
  STEP_ARGS,
  isTerminal,
  newBuild,
  newBuildId,
  snapshot,
  type Build,
  type BuildRecord,
  type BuildStatus,
  type BuildStep,
  type StepName,
  type TerminalStatus,
} from './build-record.js';
import type { BuildStore } from './build-store.js';
import { formatLogTime } from './format-time.js';
import type { OutputLine } from './line-splitter.js';
import { Deadline } from './deadline.js';
import { killOrphans } from './orphans.js';
import { readProcessTable, type ProcessEntry } from './process-table.js';
import { selectExpiredBuilds } from './retention.js';
import { startStep, type OutputStream, type RunningStep } from './run-step.js';
import { StepOutput } from './step-output.js';

/** The contract: a repeated POST with the same Idempotency-Key within 24 hours gets the same build. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The contract: pruning runs at least every 10 minutes (and at start-up, and after each build). */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * A stopped build stops waiting for its processes and its pipes this long after the stop: the
 * contract's 8 s bound, less what ending it takes after that (its TMPDIR, its record).
 */
export const STOP_DEADLINE_MS = 7000;

export interface BuildServiceSettings {
  readonly maxConcurrentBuilds: number;
  readonly maxQueuedBuilds: number;
  readonly buildTimeoutMs: number;
  readonly yarnBin: string;
  readonly inheritedEnv: InheritedEnv;
  /** Where each build's own TMPDIR is made. */
  readonly tmpRoot: string;
  /** Finished builds kept per project (KEEP_BUILDS); 0 = no limit. */
  readonly keepBuilds: number;
  /** Finished builds older than this are deleted (KEEP_DAYS); 0 = no limit. */
  readonly keepDays: number;
  readonly killGraceMs?: number;
}

/** Told when a build reaches its final status (metrics). */
export type BuildFinishedListener = (build: Build) => void;

/** Why a build is being stopped before its steps are done; the first reason wins. */
interface StopReason {
  readonly status: Exclude<TerminalStatus, 'succeeded'>;
  /** Why, for people: ends the verdict line. */
  readonly cause: string;
  /** The disk refused the build's record or history: that fails a build even after its last step. */
  readonly isStorageFailure?: boolean;
}

interface ActiveBuild {
  readonly record: BuildRecord;
  startedAtMs: number | null;
  step: RunningStep | null;
  /** Whether the running step is the last one that will run (the build step, or one whose exit fails the build). */
  isLastStep: boolean;
  /** The last step's own process has exited: its exit code decides the verdict, and a cancel changes nothing. */
  isSettled: boolean;
  stop: StopReason | null;
  /** When a stopped build stops waiting for its processes. */
  readonly stopDeadline: Deadline;
  readonly processes: BuildProcesses;
  timeout: NodeJS.Timeout | null;
  readonly finished: Promise<void>;
  markFinished(): void;
}

/**
 * Builds, from request to verdict: creates them, queues them, runs `yarn install` then
 * `yarn build`, turns their output into `log` events and each change into a `build` event,
 * stops them on cancel, timeout, disk failure or shutdown, and keeps their records.
 */
export class BuildService {
  private readonly active = new Map<string, ActiveBuild>();
  private readonly activeByProject = new Map<string, ActiveBuild>();
  private readonly idempotency = new Map<string, { buildId: string; createdAtMs: number }>();
  private readonly queue: BuildQueue<ActiveBuild>;
  private readonly finishedListeners = new Set<BuildFinishedListener>();
  /** Builds whose history the disk refused part of: it is not whole on disk. */
  private readonly historyFailures = new Set<string>();
  private pruneTimer: NodeJS.Timeout | null = null;
  private isShuttingDown = false;

  constructor(
    private readonly store: BuildStore,
    private readonly eventLog: EventLog,
    private readonly settings: BuildServiceSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.queue = new BuildQueue(settings.maxConcurrentBuilds, settings.maxQueuedBuilds, (build) => void this.run(build));
    eventLog.onStorageError((buildId, error) => this.onStorageError(buildId, error));
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
    const active = newActiveBuild(record);
    this.eventLog.createBuild(record.build.id);
    this.active.set(record.build.id, active);
    this.activeByProject.set(projectPath, active);
    this.rememberIdempotencyKey(record);
    const saveError = this.store.add(record);
    this.emitBuild(active);
    if (saveError) this.requestStop(active, storageStop(saveError));
    this.queue.add(active);
    return { build: snapshot(record.build), isNew: true };
  }

  /**
   * Cancels a queued or running build; all of its processes are ended and it ends `cancelled`.
   * A build whose last step has exited is over as far as a cancel goes (contract, Races).
   */
  cancel(id: string): Build {
    const active = this.active.get(id);
    if (!active) {
      const record = this.store.get(id);
      if (!record) throw new BuildNotFoundError(id);
      throw new NotRunningError(snapshot(record.build));
    }
    if (isSettled(active)) throw new NotRunningError(snapshot(active.record.build));
    const stop: StopReason = { status: 'cancelled', cause: 'cancel requested' };
    if (this.queue.remove(active)) this.finishUnstarted(active, stop);
    else this.requestStop(active, stop);
    return snapshot(active.record.build);
  }

  /** Refuses new builds, interrupts the queued and running ones, and waits until each has ended. */
  async shutdown(): Promise<void> {
    this.isShuttingDown = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    const stop: StopReason = { status: 'interrupted', cause: 'the server is shutting down' };
    for (const active of [...this.queue.waitingJobs]) {
      this.queue.remove(active);
      this.finishUnstarted(active, stop);
    }
    const running = [...this.active.values()];
    for (const active of running) {
      this.requestStop(active, stop);
      // One whose last step exited keeps its verdict, but shutdown waits no longer for its leftovers.
      active.stopDeadline.arm(STOP_DEADLINE_MS, () => active.step?.abandon());
    }
    await Promise.all(running.map((active) => active.finished));
    this.eventLog.flush();
    this.retryUnsavedRecords();
    await this.store.settled();
  }

  /**
   * Deletes the finished builds that retention no longer keeps (KEEP_DAYS, KEEP_BUILDS), from
   * disk and from memory, and forgets Idempotency-Keys past their 24 hours.
   */
  prune(): void {
    const expired = selectExpiredBuilds(this.store.builds(), this.settings, this.now()).filter((id) => !this.active.has(id));
    for (const id of expired) {
      this.eventLog.deleteBuild(id);
      this.historyFailures.delete(id);
    }
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

  private async run(active: ActiveBuild): Promise<void> {
    try {
      await this.runSteps(active);
    } catch (error) {
      // A bug of ours must not leave a build running forever, nor hold its queue slot.
      this.logger.error({ build: active.record.build.id, err: error }, 'a build failed inside the server');
      active.stop ??= { status: 'failed', cause: `the server failed to run it (${messageOf(error)})` };
      for (const step of active.record.build.steps) if (step.status === 'pending' || step.status === 'running') step.status = 'skipped';
    }
    this.finish(active);
    this.queue.finished();
  }

  private async runSteps(active: ActiveBuild): Promise<void> {
    const { build } = active.record;
    build.status = 'running';
    active.startedAtMs = this.now();
    build.startedAt = new Date(active.startedAtMs).toISOString();
    this.save(active);
    this.emitBuild(active);
    active.timeout = setTimeout(() => this.requestStop(active, timeoutStop(this.settings.buildTimeoutMs)), this.settings.buildTimeoutMs);

    const tmpDir = await this.makeTmpDir(active);
    for (const step of build.steps) {
      const isBlocked = active.stop !== null || tmpDir === null || build.steps.some((s) => s.status === 'failed');
      if (isBlocked) step.status = 'skipped';
      else await this.runStep(active, step, tmpDir);
    }
    if (tmpDir) await fs.promises.rm(tmpDir, { recursive: true, force: true }).catch(() => {});
  }

  /**
   * Runs one step: over when its own process has exited and its pipes are read (at most
   * OUTPUT_DRAIN_MS more); then whatever of the build is still alive is ended, each process
   * named in a system line, before the step takes its status.
   */
  private async runStep(active: ActiveBuild, step: BuildStep, tmpDir: string): Promise<void> {
    const { build } = active.record;
    step.status = 'running';
    step.startedAt = new Date(this.now()).toISOString();
    this.emitBuild(active);
    this.emitSystemLine(active, step.name, `$ ${step.command}`);

    const output = new StepOutput((stream, line, at) => this.emitLog(active, step.name, stream, line, at), this.now);
    const isBuildsLastStep = step === build.steps.at(-1);
    active.isLastStep = isBuildsLastStep;
    /** The stop that was under way when the process exited (undefined: it has not exited). */
    let stopAtExit: StopReason | null | undefined;
    const running = startStep({
      file: this.settings.yarnBin,
      args: STEP_ARGS[step.name],
      cwd: build.projectPath,
      env: buildEnvironment(this.settings.inheritedEnv, tmpDir, build.id),
      onOutput: (stream, chunk) => output.write(stream, chunk),
      onExit: (exitCode) => {
        stopAtExit = active.stop;
        if (isBuildsLastStep || exitCode !== 0) active.isSettled = true;
      },
    });
    active.step = running;
    active.processes.group = running.processGroup;
    if (active.stop) this.stopProcesses(active, active.stop);
    this.recordProcessGroup(active, running.processGroup);
    const result = await running.done;
    if (result.startError) active.isSettled = true;
    output.end();
    await this.endLeftovers(active, step.name);
    active.step = null;
    active.processes.group = null;
    this.recordProcessGroup(active, null);

    if (result.startError) this.emitSystemLine(active, step.name, `Could not run ${step.command}: ${result.startError}`);
    else if (result.exitCode !== 0) {
      const gone = describeMissingProject(build.projectPath);
      if (gone) this.emitSystemLine(active, step.name, gone);
    }
    const stop = stopAtExit === undefined ? active.stop : stopAtExit;
    step.exitCode = result.exitCode;
    step.finishedAt = new Date(this.now()).toISOString();
    step.status = stop?.status ?? (result.exitCode === 0 ? 'succeeded' : 'failed');
    this.emitBuild(active);
  }

  /**
   * Ends what a step left running (daemons, stray children). When the build is being stopped
   * they are already being ended, and waiting stops at the stop's deadline.
   */
  private async endLeftovers(active: ActiveBuild, stepName: StepName): Promise<void> {
    const grace = this.settings.killGraceMs ?? KILL_GRACE_MS;
    if (active.stop) {
      await Promise.race([active.processes.terminate(grace), active.stopDeadline.passed]);
      return;
    }
    const leftovers = active.processes.find();
    if (leftovers.length === 0) return;
    for (const { pid, command } of leftovers) {
      this.emitSystemLine(active, stepName, `Ending pid ${pid} (${command}), which the ${stepName} step left running`);
    }
    await Promise.race([active.processes.terminate(grace), active.stopDeadline.passed]);
  }

  private recordProcessGroup(active: ActiveBuild, processGroup: number | null): void {
    active.record.processGroup = processGroup;
    this.save(active);
  }

  private async makeTmpDir(active: ActiveBuild): Promise<string | null> {
    try {
      return await fs.promises.mkdtemp(path.join(this.settings.tmpRoot, `build-log-${active.record.build.id}-`));
    } catch (error) {
      this.requestStop(active, { status: 'failed', cause: `cannot make its TMPDIR (${messageOf(error)})` });
      return null;
    }
  }

  /**
   * Stops a build for a reason (the first wins). Once its last step has exited, only a disk
   * failure still counts: the steps decided, and a late cancel, timeout or shutdown changes
   * nothing (contract, Races).
   */
  private requestStop(active: ActiveBuild, stop: StopReason): void {
    if (active.stop || isTerminal(active.record.build.status)) return;
    if (isSettled(active) && !stop.isStorageFailure) return;
    active.stop = stop;
    if (active.step) this.stopProcesses(active, stop);
  }

  /** SIGTERM to all of the build's processes, SIGKILL 5 s later, and a deadline for waiting on them. */
  private stopProcesses(active: ActiveBuild, stop: StopReason): void {
    const stepName = currentStepName(active);
    this.emitSystemLine(active, stepName, `Stopping the build (${stop.cause}): ending all of its processes`);
    for (const { pid, command, isInGroup } of active.processes.find()) {
      if (!isInGroup) this.emitSystemLine(active, stepName, `Ending pid ${pid} (${command}): it left the build's process group`);
    }
    void active.processes.terminate(this.settings.killGraceMs ?? KILL_GRACE_MS);
    active.stopDeadline.arm(STOP_DEADLINE_MS, () => active.step?.abandon());
  }

  /** A build taken out of the queue before it started. */
  private finishUnstarted(active: ActiveBuild, stop: StopReason): void {
    active.stop = stop;
    for (const step of active.record.build.steps) step.status = 'skipped';
    this.finish(active);
  }

  private finish(active: ActiveBuild): void {
    if (active.timeout) clearTimeout(active.timeout);
    active.stopDeadline.clear();
    const { build } = active.record;
    const nowMs = this.now();
    const lastRun = build.steps.filter((step) => step.finishedAt !== null).at(-1);
    const allSucceeded = build.steps.every((step) => step.status === 'succeeded');
    build.status = active.stop?.status ?? (allSucceeded ? 'succeeded' : 'failed');
    build.exitCode = lastRun?.exitCode ?? null;
    build.finishedAt = new Date(nowMs).toISOString();
    build.durationMs = active.startedAtMs === null ? null : nowMs - active.startedAtMs;
    this.emitSystemLine(active, null, verdictLine(build, active.stop));
    this.emitBuild(active);
    this.eventLog.append({ buildId: build.id, event: 'end', data: { build: snapshot(build) } });
    this.sealHistory(active.record);
    this.save(active);
    this.active.delete(build.id);
    if (this.activeByProject.get(build.projectPath) === active) this.activeByProject.delete(build.projectPath);
    for (const listener of this.finishedListeners) listener(snapshot(build));
    active.markFinished();
    this.prune();
  }

  /** Writes the history's `end` now, and notes in the record (saved next) whether the history is whole on disk. */
  private sealHistory(record: BuildRecord): void {
    this.eventLog.flush();
    record.isHistorySealed = !this.historyFailures.has(record.build.id);
  }

  private async repair(record: BuildRecord, processTable: () => ProcessEntry[] | null): Promise<void> {
    const { build } = record;
    if (!isTerminal(build.status) || record.processGroup) {
      const killed = killOrphans({ id: build.id, projectPath: build.projectPath, processGroup: record.processGroup ?? null }, processTable());
      if (killed > 0) this.logger.warn({ build: build.id, processes: killed }, 'ended processes left running by the previous server');
      record.processGroup = null;
    }
    const last = await this.eventLog.lastEvent(build.id);
    if (last?.event === 'end') {
      // The history ended but the record was not saved after it (a crash in between).
      if (!isTerminal(build.status)) record.build = (JSON.parse(last.data) as { build: Build }).build;
      record.isHistorySealed = true;
      this.store.save(record);
      return;
    }
    const problem = await this.eventLog.reopenBuild(build.id);
    if (problem) this.logger.warn({ build: build.id }, `history of build ${build.id}: ${problem}`);
    const active = newActiveBuild(record);
    if (!isTerminal(build.status)) {
      const nowMs = this.now();
      build.status = 'interrupted';
      for (const step of build.steps) {
        if (step.status === 'running') {
          step.status = 'interrupted';
          step.finishedAt = new Date(nowMs).toISOString();
        } else if (step.status === 'pending') step.status = 'skipped';
      }
      build.finishedAt = new Date(nowMs).toISOString();
      build.durationMs = build.startedAt === null ? null : Math.max(0, nowMs - Date.parse(build.startedAt));
      this.emitSystemLine(active, null, 'Build interrupted: the server stopped while it was running');
    }
    this.emitBuild(active);
    this.eventLog.append({ buildId: build.id, event: 'end', data: { build: snapshot(build) } });
    this.sealHistory(record);
    this.save(active);
  }

  private onStorageError(buildId: string, error: Error): void {
    this.historyFailures.add(buildId);
    const active = this.active.get(buildId);
    this.logger.error({ build: buildId, err: error }, 'cannot write a build history to DATA_DIR');
    if (active) this.requestStop(active, storageStop(error));
  }

  private save(active: ActiveBuild): void {
    const error = this.store.save(active.record);
    if (!error) return;
    this.logger.error({ build: active.record.build.id, err: error }, 'cannot write a build record to DATA_DIR');
    this.requestStop(active, storageStop(error));
  }

  private emitBuild(active: ActiveBuild): void {
    const build = snapshot(active.record.build);
    this.logger.info({ build: build.id, status: build.status, steps: build.steps.map((s) => `${s.name}:${s.status}`) }, 'build changed');
    this.eventLog.append({ buildId: build.id, event: 'build', data: { build } });
  }

  private emitSystemLine(active: ActiveBuild, step: StepName | null, text: string): void {
    this.emitLog(active, step, 'system', { text, eol: true }, this.now());
  }

  private emitLog(active: ActiveBuild, step: StepName | null, stream: OutputStream | 'system', line: OutputLine, atMs: number): void {
    this.eventLog.append({
      buildId: active.record.build.id,
      event: 'log',
      data: { build: active.record.build.id, step, stream, time: formatLogTime(atMs), ts: atMs, text: line.text, eol: line.eol },
    });
  }

  private rememberIdempotencyKey(record: BuildRecord): void {
    if (record.idempotencyKey === null) return;
    this.idempotency.set(record.idempotencyKey, { buildId: record.build.id, createdAtMs: Date.parse(record.build.createdAt) });
  }
}

function newActiveBuild(record: BuildRecord): ActiveBuild {
  let markFinished = () => {};
  const finished = new Promise<void>((resolve) => {
    markFinished = resolve;
  });
  return {
    record,
    startedAtMs: null,
    step: null,
    isLastStep: false,
    isSettled: false,
    stop: null,
    stopDeadline: new Deadline(),
    processes: new BuildProcesses(record.build.id),
    timeout: null,
    finished,
    markFinished,
  };
}

/**
 * Whether the build's last step has exited, so that its verdict is decided: known from the
 * exit event, or seen in /proc a moment before Node reaps the process.
 */
function isSettled(active: ActiveBuild): boolean {
  if (active.isSettled) return true;
  return active.step !== null && active.isLastStep && active.step.hasExited();
}

/** Why a project cannot be built any more (it was deleted during the build), or null. */
function describeMissingProject(projectPath: string): string | null {
  if (!fs.existsSync(projectPath)) return `The project folder ${projectPath} no longer exists`;
  if (!fs.existsSync(path.join(projectPath, 'package.json'))) return `The project folder ${projectPath} no longer has a package.json`;
  return null;
}

function currentStepName(active: ActiveBuild): StepName | null {
  return active.record.build.steps.find((step) => step.status === 'running')?.name ?? null;
}

function storageStop(error: Error): StopReason {
  return { status: 'failed', cause: `DATA_DIR refused a write (${error.message})`, isStorageFailure: true };
}

function timeoutStop(limitMs: number): StopReason {
  return { status: 'timed_out', cause: `it ran longer than BUILD_TIMEOUT_MS (${formatSeconds(limitMs)})` };
}

/**
 * The final system line, e.g. `Build succeeded in 3.2 s (exit code 0)` or
 * `Build cancelled after 2.0 s (exit code 143): cancel requested`.
 */
export function verdictLine(build: Build, stop: StopReason | null): string {
  const status = build.status.replace('_', ' ');
  const took =
    build.durationMs === null
      ? 'before it started'
      : `${stop ? 'after' : 'in'} ${formatSeconds(build.durationMs)}`;
  const code = build.exitCode === null ? '' : ` (exit code ${build.exitCode})`;
  return `Build ${status} ${took}${code}${stop ? `: ${stop.cause}` : ''}`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
