import type { NewEvent } from '../events/event-log.js';
import type { BuildProcess } from './build-processes.js';
import { isTerminal, snapshot, type Build, type BuildRecord, type BuildStep, type StepName, type TerminalStatus } from './build-record.js';
import { formatLogTime } from './format-time.js';
import type { OutputLine } from './line-splitter.js';
import type { OutputStream } from './run-step.js';

/** Why a build is being stopped before its steps are done; the first reason wins. */
export interface StopReason {
  readonly status: Exclude<TerminalStatus, 'succeeded'>;
  /** Why, for people: ends the verdict line. */
  readonly cause: string;
  /** The storage refused the build's record or history: that fails a build even after its last step. */
  readonly isStorageFailure?: boolean;
}

/**
 * What happened to a build, as the side that runs its processes tells it. Each event brings
 * its own time, so that the state machine reads no clock.
 */
export type BuildRunEvent =
  /** The build left the queue and runs on this worker. */
  | { readonly type: 'started'; readonly workerName: string; readonly atMs: number }
  /** The step's turn came: it runs, or is skipped when the build is stopped or a step failed. */
  | { readonly type: 'step-due'; readonly step: StepName; readonly stop: StopReason | null; readonly atMs: number }
  /** The process group of the running step (null between steps), kept so a restart can end it. */
  | { readonly type: 'process-group'; readonly processGroup: number | null }
  | { readonly type: 'output'; readonly step: StepName; readonly stream: OutputStream; readonly line: OutputLine; readonly atMs: number }
  /** A stop reached the running step; `processes` are the build's live ones (those out of its group get named). */
  | { readonly type: 'stopping'; readonly stop: StopReason; readonly processes: readonly BuildProcess[]; readonly atMs: number }
  /** A step that was not stopped left these processes running; they are ended next. */
  | { readonly type: 'leftovers'; readonly step: StepName; readonly processes: readonly BuildProcess[]; readonly atMs: number }
  | {
      readonly type: 'step-ended';
      readonly step: StepName;
      readonly exitCode: number | null;
      /** Why the step's process could not be started; null when it ran. */
      readonly startError: string | null;
      /** The stop in force when the step's process exited (or when it was given up on): its status wins. */
      readonly stop: StopReason | null;
      /** Why the project cannot be built any more (deleted meanwhile), looked at after a failing exit. */
      readonly projectProblem: string | null;
      readonly atMs: number;
    }
  /** The build is over, after its steps (or after a failure of the server's own). */
  | { readonly type: 'finished'; readonly stop: StopReason | null; readonly atMs: number }
  /** The build ends without having started (cancelled or interrupted while queued). */
  | { readonly type: 'unstarted'; readonly stop: StopReason; readonly atMs: number };

/** The build after one event, and the events to append for it, in order. */
export interface BuildTransition {
  readonly record: BuildRecord;
  readonly events: readonly NewEvent[];
}

/**
 * The state machine of a build: the next record and the events to append, from the record
 * and what happened. Pure: the record passed in is not changed (the result is a new one that
 * shares what did not change), and nothing is read or written.
 */
export function advanceBuild(record: BuildRecord, event: BuildRunEvent): BuildTransition {
  switch (event.type) {
    case 'started':
      return startBuild(record, event.workerName, event.atMs);
    case 'step-due':
      return startOrSkipStep(record, event.step, event.stop, event.atMs);
    case 'process-group':
      return { record: { ...record, processGroup: event.processGroup }, events: [] };
    case 'output':
      return { record, events: [logEvent(record.build.id, event.step, event.stream, event.line, event.atMs)] };
    case 'stopping':
      return describeStop(record, event.stop, event.processes, event.atMs);
    case 'leftovers':
      return describeLeftovers(record, event.step, event.processes, event.atMs);
    case 'step-ended':
      return endStep(record, event);
    case 'finished':
      return endBuild(record, event.stop, event.atMs, false);
    case 'unstarted':
      return endBuild(record, event.stop, event.atMs, true);
  }
}

/**
 * The end of a build whose runner went away without ending it: the server stopped while it
 * ran, or its cluster worker was lost. A build still queued or running ends `interrupted` (a
 * running step too, the steps still due are skipped, the process group is forgotten), with
 * the system line `Build interrupted: <cause>`, its `build` and its `end`. A build whose
 * record had ended keeps it; its history, which lacks its `end`, gets the `build` and `end`.
 * Pure, as advanceBuild.
 */
export function endLostBuild(record: BuildRecord, cause: string, atMs: number): BuildTransition {
  const ending = isTerminal(record.build.status) ? record : interruptRecord(record, atMs);
  const { build } = ending;
  const closing: NewEvent[] = [buildEvent(build), { buildId: build.id, event: 'end', data: { build: snapshot(build) } }];
  if (ending === record) return { record, events: closing };
  return { record: ending, events: [systemLine(build.id, null, `Build interrupted: ${cause}`, atMs), ...closing] };
}

function interruptRecord(record: BuildRecord, atMs: number): BuildRecord {
  const { startedAt } = record.build;
  const steps = record.build.steps.map((step): BuildStep => {
    if (step.status === 'running') return { ...step, status: 'interrupted', finishedAt: isoTime(atMs) };
    return step.status === 'pending' ? { ...step, status: 'skipped' } : step;
  });
  const build: Build = {
    ...record.build,
    status: 'interrupted',
    steps,
    finishedAt: isoTime(atMs),
    // The clock may be behind the start it wrote (another machine's, or this one's after a restart).
    durationMs: startedAt === null ? null : Math.max(0, atMs - Date.parse(startedAt)),
  };
  return { ...record, build, processGroup: null };
}

/** Whether this is the build's last step: its exit decides the verdict. */
export function isLastStep(build: Build, step: StepName): boolean {
  return build.steps.at(-1)?.name === step;
}

/**
 * Whether this exit of a step's process decides the build: the last step's does, and so does
 * any failing one, since a failed step skips the rest. From then on a cancel changes nothing.
 */
export function isDecidingExit(build: Build, step: StepName, exitCode: number | null): boolean {
  return isLastStep(build, step) || exitCode !== 0;
}

function startBuild(record: BuildRecord, workerName: string, atMs: number): BuildTransition {
  const build: Build = { ...record.build, status: 'running', worker: workerName, startedAt: isoTime(atMs) };
  return { record: { ...record, build }, events: [buildEvent(build)] };
}

function startOrSkipStep(record: BuildRecord, name: StepName, stop: StopReason | null, atMs: number): BuildTransition {
  const isBlocked = stop !== null || record.build.steps.some((step) => step.status === 'failed');
  if (isBlocked) return { record: { ...record, build: changeStep(record.build, name, { status: 'skipped' }) }, events: [] };
  const build = changeStep(record.build, name, { status: 'running', startedAt: isoTime(atMs) });
  return { record: { ...record, build }, events: [buildEvent(build), systemLine(build.id, name, `$ ${findStep(build, name).command}`, atMs)] };
}

function describeStop(record: BuildRecord, stop: StopReason, processes: readonly BuildProcess[], atMs: number): BuildTransition {
  const { id, steps } = record.build;
  const step = steps.find((candidate) => candidate.status === 'running')?.name ?? null;
  const events = [systemLine(id, step, `Stopping the build (${stop.cause}): ending all of its processes`, atMs)];
  for (const { pid, command, isInGroup } of processes) {
    if (!isInGroup) events.push(systemLine(id, step, `Ending pid ${pid} (${command}): it left the build's process group`, atMs));
  }
  return { record, events };
}

function describeLeftovers(record: BuildRecord, step: StepName, processes: readonly BuildProcess[], atMs: number): BuildTransition {
  const events = processes.map(({ pid, command }) => systemLine(record.build.id, step, `Ending pid ${pid} (${command}), which the ${step} step left running`, atMs));
  return { record, events };
}

function endStep(record: BuildRecord, event: Extract<BuildRunEvent, { type: 'step-ended' }>): BuildTransition {
  const { step: name, exitCode, startError, stop, projectProblem, atMs } = event;
  const { id } = record.build;
  const events: NewEvent[] = [];
  if (startError !== null) events.push(systemLine(id, name, `Could not run ${findStep(record.build, name).command}: ${startError}`, atMs));
  else if (exitCode !== 0 && projectProblem !== null) events.push(systemLine(id, name, projectProblem, atMs));
  // A stop in force at the exit decides the status: the exit code may be the stop's own SIGTERM.
  const status = stop?.status ?? (exitCode === 0 ? 'succeeded' : 'failed');
  const build = changeStep(record.build, name, { exitCode, finishedAt: isoTime(atMs), status });
  events.push(buildEvent(build));
  return { record: { ...record, build }, events };
}

/**
 * The verdict: the stop's status if the build was stopped, else succeeded when every step
 * did; the exit code of the last step that ran. Steps that never got to run are skipped.
 */
function endBuild(record: BuildRecord, stop: StopReason | null, atMs: number, isUnstarted: boolean): BuildTransition {
  const steps = record.build.steps.map((step) => (isUnstarted || step.status === 'pending' || step.status === 'running' ? { ...step, status: 'skipped' as const } : step));
  const lastRun = steps.filter((step) => step.finishedAt !== null).at(-1);
  const allSucceeded = steps.every((step) => step.status === 'succeeded');
  const { startedAt } = record.build;
  const build: Build = {
    ...record.build,
    status: stop?.status ?? (allSucceeded ? 'succeeded' : 'failed'),
    steps,
    finishedAt: isoTime(atMs),
    exitCode: lastRun?.exitCode ?? null,
    durationMs: isUnstarted || startedAt === null ? null : atMs - Date.parse(startedAt),
  };
  const events: NewEvent[] = [
    systemLine(build.id, null, verdictLine(build, stop), atMs),
    buildEvent(build),
    { buildId: build.id, event: 'end', data: { build: snapshot(build) } },
  ];
  return { record: { ...record, build }, events };
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

/** A duration for people, in seconds with one decimal: `3.2 s`. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function findStep(build: Build, name: StepName): BuildStep {
  const step = build.steps.find((candidate) => candidate.name === name);
  if (!step) throw new Error(`build ${build.id} has no ${name} step`);
  return step;
}

function changeStep(build: Build, name: StepName, change: Partial<BuildStep>): Build {
  findStep(build, name);
  return { ...build, steps: build.steps.map((step) => (step.name === name ? { ...step, ...change } : step)) };
}

/** Events hold snapshots: whoever keeps the record may change it, the events must not change. */
function buildEvent(build: Build): NewEvent {
  return { buildId: build.id, event: 'build', data: { build: snapshot(build) } };
}

/** A line of the build's own (stream `system`), as the server writes it into a build's log. */
export function systemLine(buildId: string, step: StepName | null, text: string, atMs: number): NewEvent {
  return logEvent(buildId, step, 'system', { text, eol: true }, atMs);
}

function logEvent(buildId: string, step: StepName | null, stream: OutputStream | 'system', line: OutputLine, atMs: number): NewEvent {
  return {
    buildId,
    event: 'log',
    data: { build: buildId, step, stream, time: formatLogTime(atMs), ts: atMs, text: line.text, eol: line.eol },
  };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
