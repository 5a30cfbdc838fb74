import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BuildProcess } from '../../src/builds/build-processes.js';
import { newBuild, type BuildRecord } from '../../src/builds/build-record.js';
import { BuildRun, type BuildRunSettings, type BuildRunSink, type StopReason } from '../../src/builds/build-run.js';
import type { OutputStream, RunningStep, StepOptions, StepResult } from '../../src/builds/run-step.js';
import type { StepRunner } from '../../src/builds/step-runner.js';
import type { BuildEventWriter } from '../../src/events/build-event-writer.js';
import type { NewEvent } from '../../src/events/event-log.js';
import { createLogger } from '../../src/logger.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
const cancel: StopReason = { status: 'cancelled', cause: 'cancel requested' };

/** A step's process as the test plays it: output, then its exit, then its pipes closing. */
class FakeStep implements RunningStep {
  readonly done: Promise<StepResult>;
  private resolveDone!: (result: StepResult) => void;
  private exitCode: number | null = null;
  private isExited = false;
  /** What /proc says before the exit event comes. */
  isSeenExited = false;

  constructor(
    readonly options: StepOptions,
    readonly processGroup: number | null,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get name(): string {
    return this.options.args.join(' ');
  }

  write(stream: OutputStream, text: string): void {
    this.options.onOutput(stream, Buffer.from(text));
  }

  /** The own process exits; its pipes stay open until close(). */
  exit(exitCode: number): void {
    this.isExited = true;
    this.exitCode = exitCode;
    this.options.onExit?.(exitCode);
  }

  close(): void {
    this.resolveDone({ exitCode: this.exitCode, signal: null, startError: null });
  }

  end(exitCode: number): void {
    this.exit(exitCode);
    this.close();
  }

  failToStart(startError: string): void {
    this.isExited = true;
    this.resolveDone({ exitCode: null, signal: null, startError });
  }

  hasExited(): boolean {
    return this.isExited || this.isSeenExited;
  }

  abandon(): void {
    this.close();
  }
}

/** Plays the build's processes: the test ends each step, and a termination ends the running one as SIGTERM does. */
class FakeRunner implements StepRunner {
  readonly steps: FakeStep[] = [];
  /** What findProcesses() answers. */
  processes: BuildProcess[] = [];
  terminations = 0;
  releases = 0;
  private waiters: Array<() => void> = [];

  start(options: StepOptions): RunningStep {
    const step = new FakeStep(options, 1000 + this.steps.length);
    this.steps.push(step);
    for (const wake of this.waiters.splice(0)) wake();
    return step;
  }

  findProcesses(): readonly BuildProcess[] {
    return this.processes;
  }

  async terminate(): Promise<void> {
    this.terminations += 1;
    this.processes = [];
    const running = this.steps.at(-1);
    if (running && !running.hasExited()) running.end(143);
  }

  release(): void {
    this.releases += 1;
  }

  /** The step started as number `index` (0: install), once it has started. */
  async step(index: number): Promise<FakeStep> {
    while (this.steps.length <= index) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.steps[index]!;
  }
}

/** Keeps what the run saves (as copies) and appends; refuses saves while refusal is set. */
class CollectingSink implements BuildRunSink {
  readonly saves: BuildRecord[] = [];
  readonly appended: NewEvent[] = [];
  refusal: Error | null = null;
  /** What sealing says: whether the history is whole. */
  isHistoryWhole = true;
  readonly events: BuildEventWriter = {
    append: async (event) => {
      this.appended.push(event);
      return true;
    },
    seal: () => this.isHistoryWhole,
  };

  save(record: BuildRecord): Error | null {
    this.saves.push(structuredClone(record));
    return this.refusal;
  }

  describeStorageFailure(error: Error): string {
    return `the store refused a write (${error.message})`;
  }
}

/** Each event in one line: `log <step> <stream> <text> @<ms since T0>` or `<event> <status> <step statuses>`. */
function summary(event: NewEvent): string {
  if (event.event === 'log') return `log ${event.data.step ?? '-'} ${event.data.stream} ${event.data.text} @${event.data.ts - T0}`;
  const { build } = event.data;
  return `${event.event} ${build.status} ${build.steps.map((step) => `${step.name}:${step.status}`).join(' ')}`;
}

let dir: string;
let projectPath: string;
let clock: { ms: number };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-run-test-'));
  projectPath = path.join(dir, 'app');
  fs.mkdirSync(projectPath);
  fs.writeFileSync(path.join(projectPath, 'package.json'), '{}');
  clock = { ms: T0 };
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function newRun(change: Partial<BuildRunSettings> = {}) {
  const record: BuildRecord = { build: newBuild('0000000000abcdef', projectPath, new Date(T0 - 500)), idempotencyKey: null, isHistorySealed: false };
  const sink = new CollectingSink();
  const runner = new FakeRunner();
  const ended: BuildRun[] = [];
  const settings: BuildRunSettings = { buildTimeoutMs: 60000, yarnBin: '/usr/bin/yarn', inheritedEnv: { path: '/usr/bin', home: '/home/builder', lang: 'C.UTF-8' }, tmpRoot: dir, workerName: 'w1', ...change };
  const run = new BuildRun(record, sink, settings, createLogger('silent'), (done) => ended.push(done), () => clock.ms, runner);
  return { record, sink, runner, ended, run };
}

describe('BuildRun', () => {
  it('runs a build that succeeds: its exact events, in order, and the record it leaves', async () => {
    const { record, sink, runner, ended, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    expect(install.options).toMatchObject({ file: '/usr/bin/yarn', args: ['install'], cwd: projectPath });
    expect(install.options.env).toMatchObject({ BUILDLOG_BUILD_ID: '0000000000abcdef', HOME: '/home/builder' });
    expect(path.dirname(install.options.env.TMPDIR!)).toBe(dir);
    clock.ms = T0 + 100;
    install.write('stdout', 'resolving\nfetch');
    clock.ms = T0 + 150;
    install.write('stdout', 'ed\n');
    install.write('stderr', 'warning\n');
    clock.ms = T0 + 1000;
    install.end(0);
    const build = await runner.step(1);
    expect(build.options.args).toEqual(['build']);
    clock.ms = T0 + 2000;
    build.write('stdout', 'done');
    clock.ms = T0 + 3210;
    build.end(0);
    await running;

    expect(sink.appended.map(summary)).toEqual([
      'build running install:pending build:pending',
      'build running install:running build:pending',
      'log install system $ yarn install @0',
      'log install stdout resolving @100',
      'log install stdout fetched @150',
      'log install stderr warning @150',
      'build running install:succeeded build:pending',
      'build running install:succeeded build:running',
      'log build system $ yarn build @1000',
      'log build stdout done @2000',
      'build running install:succeeded build:succeeded',
      'log - system Build succeeded in 3.2 s (exit code 0) @3210',
      'build succeeded install:succeeded build:succeeded',
      'end succeeded install:succeeded build:succeeded',
    ]);
    const partial = sink.appended[9] as NewEvent<'log'>;
    expect(partial.data).toMatchObject({ text: 'done', eol: false });
    expect(run.record).toBe(record);
    expect(record.build).toMatchObject({ status: 'succeeded', worker: 'w1', exitCode: 0, durationMs: 3210, startedAt: new Date(T0).toISOString(), finishedAt: new Date(T0 + 3210).toISOString() });
    expect((sink.appended.at(-1) as NewEvent<'end'>).data.build).toEqual(record.build);
    expect(sink.saves.map((saved) => ('processGroup' in saved ? saved.processGroup : 'none'))).toEqual(['none', 1000, null, 1001, null, null]);
    expect(sink.saves.at(-1)).toEqual(record);
    expect(record.isHistorySealed).toBe(true);
    expect(runner.releases).toBe(2);
    expect(ended).toEqual([run]);
    expect(run.isSettled()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['app']); // its TMPDIR is gone
  });

  it('seals the history after the end and saves the record last, saying whether the history is whole', async () => {
    const { record, sink, runner, run } = newRun();
    sink.isHistoryWhole = false;
    const running = run.run();
    (await runner.step(0)).end(1);
    await running;
    expect(sink.appended.at(-1)!.event).toBe('end');
    expect(sink.saves.at(-1)).toMatchObject({ isHistorySealed: false, build: { status: 'failed' } });
    expect(record.isHistorySealed).toBe(false);
  });

  it('skips the build step when the install fails, and fails with its exit code', async () => {
    const { record, sink, runner, run } = newRun();
    const running = run.run();
    clock.ms = T0 + 400;
    (await runner.step(0)).end(1);
    await running;
    expect(runner.steps).toHaveLength(1);
    expect(sink.appended.map(summary).slice(-4)).toEqual([
      'build running install:failed build:pending',
      'log - system Build failed in 0.4 s (exit code 1) @400',
      'build failed install:failed build:skipped',
      'end failed install:failed build:skipped',
    ]);
    expect(record.build.exitCode).toBe(1);
  });

  it('says so when the project folder was deleted under a failing step', async () => {
    const { sink, runner, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    fs.rmSync(path.join(projectPath, 'package.json'));
    install.end(1);
    await running;
    expect(sink.appended.map(summary)).toContain(`log install system The project folder ${projectPath} no longer has a package.json @0`);
  });

  it('names what a step left running and ends it before the step takes its status', async () => {
    const { sink, runner, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    runner.processes = [{ pid: 4242, command: 'sleep 100', isInGroup: false }];
    install.end(0);
    (await runner.step(1)).end(0);
    await running;
    const lines = sink.appended.map(summary);
    const ending = lines.indexOf('log install system Ending pid 4242 (sleep 100), which the install step left running @0');
    expect(ending).toBeGreaterThan(-1);
    expect(lines[ending + 1]).toBe('build running install:succeeded build:pending');
    expect(runner.terminations).toBe(1);
  });

  it('cancels a running step: ends its processes, names one that left the group, and skips the rest', async () => {
    const { record, sink, runner, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    install.write('stdout', 'working\n');
    runner.processes = [
      { pid: 1000, command: 'yarn install', isInGroup: true },
      { pid: 2000, command: 'node daemon.js', isInGroup: false },
    ];
    clock.ms = T0 + 2000;
    expect(run.isSettled()).toBe(false);
    expect(run.requestStop(cancel)).toBe(true);
    // A stop already under way: the build is being stopped, by the first reason.
    expect(run.requestStop({ status: 'timed_out', cause: 'too late: the first reason wins' })).toBe(true);
    await running;
    expect(runner.terminations).toBeGreaterThanOrEqual(1);
    expect(runner.steps).toHaveLength(1);
    expect(sink.appended.map(summary).slice(3)).toEqual([
      'log install stdout working @0',
      'log install system Stopping the build (cancel requested): ending all of its processes @2000',
      "log install system Ending pid 2000 (node daemon.js): it left the build's process group @2000",
      'build running install:cancelled build:pending',
      'log - system Build cancelled after 2.0 s (exit code 143): cancel requested @2000',
      'build cancelled install:cancelled build:skipped',
      'end cancelled install:cancelled build:skipped',
    ]);
    expect(record.build.exitCode).toBe(143);
  });

  it('skips every step when the stop came before the build started', async () => {
    const { sink, runner, run } = newRun();
    run.requestStop(cancel); // e.g. a cluster worker that finds the cancel mark on taking the build
    await run.run();
    expect(runner.steps).toHaveLength(0);
    expect(sink.appended.map(summary).slice(-3)).toEqual([
      'log - system Build cancelled after 0.0 s: cancel requested @0',
      'build cancelled install:skipped build:skipped',
      'end cancelled install:skipped build:skipped',
    ]);
  });

  it('changes nothing on a cancel after the last step exited, though its output is still being read', async () => {
    const { record, sink, runner, run } = newRun();
    const running = run.run();
    (await runner.step(0)).end(0);
    const build = await runner.step(1);
    build.exit(0);
    expect(run.isSettled()).toBe(true);
    expect(run.requestStop(cancel)).toBe(false);
    build.write('stdout', 'late output\n');
    build.close();
    await running;
    expect(runner.terminations).toBe(0);
    expect(record.build.status).toBe('succeeded');
    expect(sink.appended.map(summary).filter((line) => line.includes('Stopping'))).toEqual([]);
    expect(sink.appended.map(summary)).toContain('log build stdout late output @0');
  });

  it('is settled when the last step is seen exited before its exit event', async () => {
    const { runner, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    install.isSeenExited = true;
    expect(run.isSettled()).toBe(false); // the install's exit decides nothing yet
    install.end(0);
    const build = await runner.step(1);
    build.isSeenExited = true;
    expect(run.isSettled()).toBe(true);
    build.end(0);
    await running;
  });

  it('refuses a stop once /proc shows the last step exited, before its exit event, and keeps the verdict', async () => {
    const { record, runner, run } = newRun();
    const running = run.run();
    (await runner.step(0)).end(0);
    const build = await runner.step(1);
    // The process became a zombie an instant ago: the answer to the cancel must say it came too late.
    build.isSeenExited = true;
    expect(run.requestStop(cancel)).toBe(false);
    build.end(0);
    await running;
    expect(runner.terminations).toBe(0);
    expect(record.build.status).toBe('succeeded');
  });

  it('fails on a storage failure even after its last step exited, keeping the steps as they ended', async () => {
    const { record, sink, runner, run } = newRun();
    const running = run.run();
    (await runner.step(0)).end(0);
    const build = await runner.step(1);
    build.exit(0);
    clock.ms = T0 + 1500;
    run.storageFailed(new Error('ENOSPC'));
    build.close();
    await running;
    expect(record.build.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded']);
    expect(sink.appended.map(summary).slice(-5)).toEqual([
      'log build system Stopping the build (the store refused a write (ENOSPC)): ending all of its processes @1500',
      'build running install:succeeded build:succeeded',
      'log - system Build failed after 1.5 s (exit code 0): the store refused a write (ENOSPC) @1500',
      'build failed install:succeeded build:succeeded',
      'end failed install:succeeded build:succeeded',
    ]);
    expect(record.build.status).toBe('failed');
  });

  it('fails when the sink refuses its record, and runs no step', async () => {
    const { sink, runner, run } = newRun();
    sink.refusal = new Error('disk full');
    await run.run();
    expect(runner.steps).toHaveLength(0);
    expect(sink.appended.map(summary).slice(-3)[0]).toBe('log - system Build failed after 0.0 s: the store refused a write (disk full) @0');
  });

  it('fails a step that cannot start, says why, and skips the rest', async () => {
    const { record, sink, runner, run } = newRun();
    const running = run.run();
    const install = await runner.step(0);
    install.failToStart('/usr/bin/yarn does not exist (set YARN_BIN to a yarn executable)');
    await running;
    expect(runner.steps).toHaveLength(1);
    expect(sink.appended.map(summary).slice(3)).toEqual([
      'log install system Could not run yarn install: /usr/bin/yarn does not exist (set YARN_BIN to a yarn executable) @0',
      'build running install:failed build:pending',
      'log - system Build failed in 0.0 s @0',
      'build failed install:failed build:skipped',
      'end failed install:failed build:skipped',
    ]);
    expect(record.build.exitCode).toBeNull();
    expect(run.isSettled()).toBe(true);
  });

  it('fails without running a step when its TMPDIR cannot be made', async () => {
    const { sink, runner, run } = newRun({ tmpRoot: path.join(dir, 'missing') });
    await run.run();
    expect(runner.steps).toHaveLength(0);
    expect(summary(sink.appended.at(-3)!)).toMatch(/^log - system Build failed after 0\.0 s: cannot make its TMPDIR \(.*ENOENT.*\) @0$/);
  });

  it('times out a step that runs past BUILD_TIMEOUT_MS', async () => {
    const { record, runner, run } = newRun({ buildTimeoutMs: 20 });
    const running = run.run();
    await runner.step(0); // never ends by itself: the timeout's termination ends it
    await running;
    expect(record.build.status).toBe('timed_out');
    expect(record.build.steps.map((step) => step.status)).toEqual(['timed_out', 'skipped']);
  });

  it('fails a build that a bug of the server broke off, instead of leaving it running', async () => {
    const { record, sink, runner, ended, run } = newRun();
    runner.start = () => {
      throw new Error('boom');
    };
    await run.run();
    expect(record.build.steps.map((step) => step.status)).toEqual(['skipped', 'skipped']);
    expect(sink.appended.map(summary).slice(-3)).toEqual([
      'log - system Build failed after 0.0 s: the server failed to run it (boom) @0',
      'build failed install:skipped build:skipped',
      'end failed install:skipped build:skipped',
    ]);
    expect(ended).toEqual([run]);
  });

  it('ends a build that never started with its verdict, build and end events', () => {
    const { record, sink, runner, ended, run } = newRun();
    run.finishUnstarted(cancel);
    expect(runner.steps).toHaveLength(0);
    expect(sink.appended.map(summary)).toEqual([
      'log - system Build cancelled before it started: cancel requested @0',
      'build cancelled install:skipped build:skipped',
      'end cancelled install:skipped build:skipped',
    ]);
    expect(record.build).toMatchObject({ durationMs: null, exitCode: null, startedAt: null });
    expect(sink.saves).toEqual([record]);
    expect(ended).toEqual([run]);
    return run.finished;
  });
});
