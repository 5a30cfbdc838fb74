import fs from 'node:fs';
import path from 'node:path';
import type { BuildEventWriter } from '../events/build-event-writer.js';
import type { NewEvent } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import { buildEnvironment, type InheritedEnv } from './build-env.js';
import { KILL_GRACE_MS } from './build-processes.js';
import { STEP_ARGS, isTerminal, type BuildRecord, type StepName, type StepStatus } from './build-record.js';
import { advanceBuild, formatSeconds, isDecidingExit, isLastStep, type BuildRunEvent, type StopReason } from './build-state.js';
import { Deadline } from './deadline.js';
import { ProcessStepRunner } from './process-step-runner.js';
import type { RunningStep } from './run-step.js';
import { StepOutput } from './step-output.js';
import type { StepRunner } from './step-runner.js';

export { formatSeconds, verdictLine, type StopReason } from './build-state.js';

/**
 * A stopped build stops waiting for its processes and its pipes this long after the stop: the
 * contract's 8 s bound, less what ending it takes after that (its TMPDIR, its record).
 */
export const STOP_DEADLINE_MS = 7000;

/** What running a build needs to know, whoever runs it (one process, or a cluster's worker). */
export interface BuildRunSettings {
  readonly buildTimeoutMs: number;
  readonly yarnBin: string;
  readonly inheritedEnv: InheritedEnv;
  /** Where each build's own TMPDIR is made. */
  readonly tmpRoot: string;
  /** Written into the record when the build starts (Build.worker). */
  readonly workerName: string;
  readonly killGraceMs?: number;
}

/**
 * Where a run keeps its record and sends its events: the local store and event log, or a
 * cluster's Redis. A save that the storage refuses fails the build (as a storage failure).
 */
export interface BuildRunSink {
  save(record: BuildRecord): Error | null;
  /** Where the build's events go; sealed once the `end` is appended, before the last save. */
  readonly events: BuildEventWriter;
  /** Says why storage refused this build's writes, for the verdict line. */
  describeStorageFailure(error: Error): string;
}

/**
 * One build from its start to its verdict: runs `yarn install` then `yarn build` in the
 * project folder, turns their output into `log` events and each change into a `build` event,
 * ends every process a step leaves behind, and stops the build on cancel, timeout, storage
 * failure or shutdown. Whoever owns it decides when it starts and learns when it ends.
 *
 * This is the side with processes, timers and files; what each happening does to the record
 * and which events it appends is advanceBuild's (build-state.ts), and the processes
 * themselves are the StepRunner's.
 */
export class BuildRun {
  private step: RunningStep | null = null;
  /** Whether the running step is the last one that will run (the build step, or one whose exit fails the build). */
  private isLastStep = false;
  /** The last step's own process has exited: its exit code decides the verdict, and a cancel changes nothing. */
  private hasLastStepExited = false;
  private stop: StopReason | null = null;
  /** When a stopped build stops waiting for its processes. */
  private readonly stopDeadline = new Deadline();
  private timeout: NodeJS.Timeout | null = null;
  private markFinished: () => void = () => {};
  /** Resolves once the build has its verdict and its record is saved. */
  readonly finished: Promise<void>;

  constructor(
    /**
     * The build's record, this very object for as long as the build runs: its owner may list
     * it (the local store does), so each new record advanceBuild returns is copied into it.
     */
    readonly record: BuildRecord,
    private readonly sink: BuildRunSink,
    private readonly settings: BuildRunSettings,
    private readonly logger: Logger,
    private readonly onEnded: (run: BuildRun) => void,
    private readonly now: () => number = Date.now,
    /** Starts the steps' processes and ends the build's; tests give a fake one. */
    private readonly runner: StepRunner = new ProcessStepRunner(record.build.id),
  ) {
    this.finished = new Promise<void>((resolve) => {
      this.markFinished = resolve;
    });
  }

  get id(): string {
    return this.record.build.id;
  }

  /** Runs the steps and ends the build; resolves when it has ended. */
  async run(): Promise<void> {
    try {
      await this.runSteps();
    } catch (error) {
      // A bug of ours must not leave a build running forever, nor hold its slot.
      this.logger.error({ build: this.id, err: error }, 'a build failed inside the server');
      this.stop ??= { status: 'failed', cause: `the server failed to run it (${messageOf(error)})` };
    }
    this.finish({ type: 'finished', stop: this.stop, atMs: this.now() });
  }

  /** Ends a build that never started (cancelled or interrupted while queued). */
  finishUnstarted(stop: StopReason): void {
    this.stop = stop;
    this.finish({ type: 'unstarted', stop, atMs: this.now() });
  }

  /**
   * Whether the build's last step has exited, so that its verdict is decided: known from the
   * exit event, or seen in /proc a moment before Node reaps the process.
   */
  isSettled(): boolean {
    if (this.hasLastStepExited) return true;
    return this.step !== null && this.isLastStep && this.step.hasExited();
  }

  /**
   * Stops the build for a reason (the first wins). Once its last step has exited, only a
   * storage failure still counts: the steps decided, and a late cancel, timeout or shutdown
   * changes nothing (contract, Races). Says whether the build is being stopped now (by this
   * stop, or an earlier one); false when it was too late.
   */
  requestStop(stop: StopReason): boolean {
    if (isTerminal(this.record.build.status)) return false;
    if (this.stop) return true;
    if (this.isSettled() && !stop.isStorageFailure) return false;
    this.stop = stop;
    if (this.step) this.stopProcesses(stop);
    return true;
  }

  /** Stops the build and, whatever its verdict, stops waiting for its leftovers STOP_DEADLINE_MS from now. */
  interrupt(stop: StopReason): void {
    this.requestStop(stop);
    this.stopDeadline.arm(STOP_DEADLINE_MS, () => this.step?.abandon());
  }

  storageFailed(error: Error): void {
    this.requestStop({ status: 'failed', cause: this.sink.describeStorageFailure(error), isStorageFailure: true });
  }

  private async runSteps(): Promise<void> {
    this.advance({ type: 'started', workerName: this.settings.workerName, atMs: this.now() }, { isSavedFirst: true });
    const limitMs = this.settings.buildTimeoutMs;
    this.timeout = setTimeout(() => this.requestStop({ status: 'timed_out', cause: `it ran longer than BUILD_TIMEOUT_MS (${formatSeconds(limitMs)})` }), limitMs);

    const tmpDir = await this.makeTmpDir();
    for (const name of this.record.build.steps.map((step) => step.name)) {
      // A build without its TMPDIR is stopped (makeTmpDir), so its steps are skipped.
      this.advance({ type: 'step-due', step: name, stop: this.stop, atMs: this.now() });
      if (tmpDir !== null && this.stepStatus(name) === 'running') await this.runStep(name, tmpDir);
    }
    if (tmpDir) await fs.promises.rm(tmpDir, { recursive: true, force: true }).catch(() => {});
  }

  /**
   * Runs one step: over when its own process has exited and its pipes are read (at most
   * OUTPUT_DRAIN_MS more); then whatever of the build is still alive is ended, each process
   * named in a system line, before the step takes its status.
   */
  private async runStep(name: StepName, tmpDir: string): Promise<void> {
    const { id, projectPath } = this.record.build;
    const output = new StepOutput((stream, line, atMs) => this.advance({ type: 'output', step: name, stream, line, atMs }), this.now);
    this.isLastStep = isLastStep(this.record.build, name);
    /** The stop that was under way when the process exited (undefined: it has not exited). */
    let stopAtExit: StopReason | null | undefined;
    const running = this.runner.start({
      file: this.settings.yarnBin,
      args: STEP_ARGS[name],
      cwd: projectPath,
      env: buildEnvironment(this.settings.inheritedEnv, tmpDir, id),
      onOutput: (stream, chunk) => output.write(stream, chunk),
      onExit: (exitCode) => {
        stopAtExit = this.stop;
        if (isDecidingExit(this.record.build, name, exitCode)) this.hasLastStepExited = true;
      },
    });
    this.step = running;
    if (this.stop) this.stopProcesses(this.stop);
    this.advance({ type: 'process-group', processGroup: running.processGroup }, { isSavedFirst: true });
    const result = await running.done;
    if (result.startError) this.hasLastStepExited = true;
    output.end();
    await this.endLeftovers(name);
    this.step = null;
    this.runner.release();
    this.advance({ type: 'process-group', processGroup: null }, { isSavedFirst: true });

    const hasFailed = result.startError === null && result.exitCode !== 0;
    this.advance({
      type: 'step-ended',
      step: name,
      exitCode: result.exitCode,
      startError: result.startError,
      stop: stopAtExit === undefined ? this.stop : stopAtExit,
      projectProblem: hasFailed ? describeMissingProject(projectPath) : null,
      atMs: this.now(),
    });
  }

  /**
   * Ends what a step left running (daemons, stray children). When the build is being stopped
   * they are already being ended, and waiting stops at the stop's deadline.
   */
  private async endLeftovers(step: StepName): Promise<void> {
    if (!this.stop) {
      const leftovers = this.runner.findProcesses();
      if (leftovers.length === 0) return;
      this.advance({ type: 'leftovers', step, processes: leftovers, atMs: this.now() });
    }
    await Promise.race([this.runner.terminate(this.killGraceMs), this.stopDeadline.passed]);
  }

  private async makeTmpDir(): Promise<string | null> {
    try {
      return await fs.promises.mkdtemp(path.join(this.settings.tmpRoot, `build-log-${this.id}-`));
    } catch (error) {
      this.requestStop({ status: 'failed', cause: `cannot make its TMPDIR (${messageOf(error)})` });
      return null;
    }
  }

  /** SIGTERM to all of the build's processes, SIGKILL 5 s later, and a deadline for waiting on them. */
  private stopProcesses(stop: StopReason): void {
    this.advance({ type: 'stopping', stop, processes: this.runner.findProcesses(), atMs: this.now() });
    void this.runner.terminate(this.killGraceMs);
    this.stopDeadline.arm(STOP_DEADLINE_MS, () => this.step?.abandon());
  }

  private finish(ending: Extract<BuildRunEvent, { type: 'finished' | 'unstarted' }>): void {
    if (this.timeout) clearTimeout(this.timeout);
    this.stopDeadline.clear();
    this.advance(ending);
    this.record.isHistorySealed = this.sink.events.seal();
    this.save();
    this.onEnded(this);
    this.markFinished();
  }

  /**
   * Takes the record advanceBuild makes of this event (saved first when asked: the record
   * is on disk before its event is sent) and appends the events it gives, in order.
   */
  private advance(event: BuildRunEvent, { isSavedFirst = false } = {}): void {
    const { record, events } = advanceBuild(this.record, event);
    Object.assign(this.record, record);
    if (isSavedFirst) this.save();
    for (const next of events) this.append(next);
  }

  private stepStatus(name: StepName): StepStatus | undefined {
    return this.record.build.steps.find((step) => step.name === name)?.status;
  }

  private get killGraceMs(): number {
    return this.settings.killGraceMs ?? KILL_GRACE_MS;
  }

  private save(): void {
    const error = this.sink.save(this.record);
    if (error) this.storageFailed(error);
  }

  private append(event: NewEvent): void {
    appendEvent(this.sink.events, event, this.logger);
  }
}

/**
 * Hands a build's event to its writer, logging each status change on the way (whoever writes
 * a build's events: its run, or the start-up repair). Not awaited: the storage keeps the
 * order, and tells of a refusal to whoever made the writer.
 */
export function appendEvent(events: BuildEventWriter, event: NewEvent, logger: Logger): void {
  if (event.event === 'build') {
    const { build } = event.data;
    logger.info({ build: build.id, status: build.status, steps: build.steps.map((s) => `${s.name}:${s.status}`) }, 'build changed');
  }
  void events.append(event);
}

/** Why a project cannot be built any more (it was deleted during the build), or null. */
function describeMissingProject(projectPath: string): string | null {
  if (!fs.existsSync(projectPath)) return `The project folder ${projectPath} no longer exists`;
  if (!fs.existsSync(path.join(projectPath, 'package.json'))) return `The project folder ${projectPath} no longer has a package.json`;
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
