import fs from 'node:fs';
import path from 'node:path';
import type { NewEvent } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import { buildEnvironment, type InheritedEnv } from './build-env.js';
import { BuildProcesses, KILL_GRACE_MS } from './build-processes.js';
import { STEP_ARGS, isTerminal, snapshot, type Build, type BuildRecord, type BuildStep, type StepName, type TerminalStatus } from './build-record.js';
import { Deadline } from './deadline.js';
import { formatLogTime } from './format-time.js';
import type { OutputLine } from './line-splitter.js';
import { startStep, type OutputStream, type RunningStep } from './run-step.js';
import { StepOutput } from './step-output.js';

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
  append(event: NewEvent): void;
  /** The `end` was appended: write it out and note in the record whether the history is whole. */
  sealHistory(record: BuildRecord): void;
  /** Says why storage refused this build's writes, for the verdict line. */
  describeStorageFailure(error: Error): string;
}

/** Why a build is being stopped before its steps are done; the first reason wins. */
export interface StopReason {
  readonly status: Exclude<TerminalStatus, 'succeeded'>;
  /** Why, for people: ends the verdict line. */
  readonly cause: string;
  /** The storage refused the build's record or history: that fails a build even after its last step. */
  readonly isStorageFailure?: boolean;
}

/**
 * One build from its start to its verdict: runs `yarn install` then `yarn build` in the
 * project folder, turns their output into `log` events and each change into a `build` event,
 * ends every process a step leaves behind, and stops the build on cancel, timeout, storage
 * failure or shutdown. Whoever owns it decides when it starts and learns when it ends.
 */
export class BuildRun {
  private startedAtMs: number | null = null;
  private step: RunningStep | null = null;
  /** Whether the running step is the last one that will run (the build step, or one whose exit fails the build). */
  private isLastStep = false;
  /** The last step's own process has exited: its exit code decides the verdict, and a cancel changes nothing. */
  private hasLastStepExited = false;
  private stop: StopReason | null = null;
  /** When a stopped build stops waiting for its processes. */
  private readonly stopDeadline = new Deadline();
  private readonly processes: BuildProcesses;
  private timeout: NodeJS.Timeout | null = null;
  private markFinished: () => void = () => {};
  /** Resolves once the build has its verdict and its record is saved. */
  readonly finished: Promise<void>;

  constructor(
    readonly record: BuildRecord,
    private readonly sink: BuildRunSink,
    private readonly settings: BuildRunSettings,
    private readonly logger: Logger,
    private readonly onEnded: (run: BuildRun) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.processes = new BuildProcesses(record.build.id);
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
      for (const step of this.record.build.steps) if (step.status === 'pending' || step.status === 'running') step.status = 'skipped';
    }
    this.finish();
  }

  /** Ends a build that never started (cancelled or interrupted while queued). */
  finishUnstarted(stop: StopReason): void {
    this.stop = stop;
    for (const step of this.record.build.steps) step.status = 'skipped';
    this.finish();
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
   * changes nothing (contract, Races).
   */
  requestStop(stop: StopReason): void {
    if (this.stop || isTerminal(this.record.build.status)) return;
    if (this.isSettled() && !stop.isStorageFailure) return;
    this.stop = stop;
    if (this.step) this.stopProcesses(stop);
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
    const { build } = this.record;
    build.status = 'running';
    build.worker = this.settings.workerName;
    this.startedAtMs = this.now();
    build.startedAt = new Date(this.startedAtMs).toISOString();
    this.save();
    this.emitBuild();
    const limitMs = this.settings.buildTimeoutMs;
    this.timeout = setTimeout(() => this.requestStop({ status: 'timed_out', cause: `it ran longer than BUILD_TIMEOUT_MS (${formatSeconds(limitMs)})` }), limitMs);

    const tmpDir = await this.makeTmpDir();
    for (const step of build.steps) {
      const isBlocked = this.stop !== null || tmpDir === null || build.steps.some((s) => s.status === 'failed');
      if (isBlocked) step.status = 'skipped';
      else await this.runStep(step, tmpDir);
    }
    if (tmpDir) await fs.promises.rm(tmpDir, { recursive: true, force: true }).catch(() => {});
  }

  /**
   * Runs one step: over when its own process has exited and its pipes are read (at most
   * OUTPUT_DRAIN_MS more); then whatever of the build is still alive is ended, each process
   * named in a system line, before the step takes its status.
   */
  private async runStep(step: BuildStep, tmpDir: string): Promise<void> {
    const { build } = this.record;
    step.status = 'running';
    step.startedAt = new Date(this.now()).toISOString();
    this.emitBuild();
    this.emitSystemLine(step.name, `$ ${step.command}`);

    const output = new StepOutput((stream, line, at) => this.emitLog(step.name, stream, line, at), this.now);
    const isBuildsLastStep = step === build.steps.at(-1);
    this.isLastStep = isBuildsLastStep;
    /** The stop that was under way when the process exited (undefined: it has not exited). */
    let stopAtExit: StopReason | null | undefined;
    const running = startStep({
      file: this.settings.yarnBin,
      args: STEP_ARGS[step.name],
      cwd: build.projectPath,
      env: buildEnvironment(this.settings.inheritedEnv, tmpDir, build.id),
      onOutput: (stream, chunk) => output.write(stream, chunk),
      onExit: (exitCode) => {
        stopAtExit = this.stop;
        if (isBuildsLastStep || exitCode !== 0) this.hasLastStepExited = true;
      },
    });
    this.step = running;
    this.processes.group = running.processGroup;
    if (this.stop) this.stopProcesses(this.stop);
    this.recordProcessGroup(running.processGroup);
    const result = await running.done;
    if (result.startError) this.hasLastStepExited = true;
    output.end();
    await this.endLeftovers(step.name);
    this.step = null;
    this.processes.group = null;
    this.recordProcessGroup(null);

    if (result.startError) this.emitSystemLine(step.name, `Could not run ${step.command}: ${result.startError}`);
    else if (result.exitCode !== 0) {
      const gone = describeMissingProject(build.projectPath);
      if (gone) this.emitSystemLine(step.name, gone);
    }
    const stop = stopAtExit === undefined ? this.stop : stopAtExit;
    step.exitCode = result.exitCode;
    step.finishedAt = new Date(this.now()).toISOString();
    step.status = stop?.status ?? (result.exitCode === 0 ? 'succeeded' : 'failed');
    this.emitBuild();
  }

  /**
   * Ends what a step left running (daemons, stray children). When the build is being stopped
   * they are already being ended, and waiting stops at the stop's deadline.
   */
  private async endLeftovers(stepName: StepName): Promise<void> {
    const grace = this.settings.killGraceMs ?? KILL_GRACE_MS;
    if (!this.stop) {
      const leftovers = this.processes.find();
      if (leftovers.length === 0) return;
      for (const { pid, command } of leftovers) {
        this.emitSystemLine(stepName, `Ending pid ${pid} (${command}), which the ${stepName} step left running`);
      }
    }
    await Promise.race([this.processes.terminate(grace), this.stopDeadline.passed]);
  }

  private recordProcessGroup(processGroup: number | null): void {
    this.record.processGroup = processGroup;
    this.save();
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
    const stepName = this.record.build.steps.find((step) => step.status === 'running')?.name ?? null;
    this.emitSystemLine(stepName, `Stopping the build (${stop.cause}): ending all of its processes`);
    for (const { pid, command, isInGroup } of this.processes.find()) {
      if (!isInGroup) this.emitSystemLine(stepName, `Ending pid ${pid} (${command}): it left the build's process group`);
    }
    void this.processes.terminate(this.settings.killGraceMs ?? KILL_GRACE_MS);
    this.stopDeadline.arm(STOP_DEADLINE_MS, () => this.step?.abandon());
  }

  private finish(): void {
    if (this.timeout) clearTimeout(this.timeout);
    this.stopDeadline.clear();
    const { build } = this.record;
    const nowMs = this.now();
    const lastRun = build.steps.filter((step) => step.finishedAt !== null).at(-1);
    const allSucceeded = build.steps.every((step) => step.status === 'succeeded');
    build.status = this.stop?.status ?? (allSucceeded ? 'succeeded' : 'failed');
    build.exitCode = lastRun?.exitCode ?? null;
    build.finishedAt = new Date(nowMs).toISOString();
    build.durationMs = this.startedAtMs === null ? null : nowMs - this.startedAtMs;
    this.emitSystemLine(null, verdictLine(build, this.stop));
    this.emitBuild();
    this.sink.append({ buildId: build.id, event: 'end', data: { build: snapshot(build) } });
    this.sink.sealHistory(this.record);
    this.save();
    this.onEnded(this);
    this.markFinished();
  }

  private save(): void {
    const error = this.sink.save(this.record);
    if (error) this.storageFailed(error);
  }

  private emitBuild(): void {
    const build = snapshot(this.record.build);
    this.logger.info({ build: build.id, status: build.status, steps: build.steps.map((s) => `${s.name}:${s.status}`) }, 'build changed');
    this.sink.append({ buildId: build.id, event: 'build', data: { build } });
  }

  private emitSystemLine(step: StepName | null, text: string): void {
    this.emitLog(step, 'system', { text, eol: true }, this.now());
  }

  private emitLog(step: StepName | null, stream: OutputStream | 'system', line: OutputLine, atMs: number): void {
    this.sink.append({
      buildId: this.id,
      event: 'log',
      data: { build: this.id, step, stream, time: formatLogTime(atMs), ts: atMs, text: line.text, eol: line.eol },
    });
  }
}

/** Why a project cannot be built any more (it was deleted during the build), or null. */
function describeMissingProject(projectPath: string): string | null {
  if (!fs.existsSync(projectPath)) return `The project folder ${projectPath} no longer exists`;
  if (!fs.existsSync(path.join(projectPath, 'package.json'))) return `The project folder ${projectPath} no longer has a package.json`;
  return null;
}

/**
 * The final system line, e.g. `Build succeeded in 3.2 s (exit code 0)` or
 * `Build cancelled after 2.0 s (exit code 143): cancel requested`.
 */
export function verdictLine(build: Build, stop: StopReason | null): string {
  const status = build.status.replace('_', ' ');
  const took = build.durationMs === null ? 'before it started' : `${stop ? 'after' : 'in'} ${formatSeconds(build.durationMs)}`;
  const code = build.exitCode === null ? '' : ` (exit code ${build.exitCode})`;
  return `Build ${status} ${took}${code}${stop ? `: ${stop.cause}` : ''}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
