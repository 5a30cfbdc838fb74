import { newBuild, type BuildRecord, type StepName } from '../../src/builds/build-record.js';
import { advanceBuild, endLostBuild, formatSeconds, isDecidingExit, systemLine, verdictLine, type BuildRunEvent, type StopReason } from '../../src/builds/build-state.js';
import { formatLogTime } from '../../src/builds/format-time.js';
import type { NewEvent } from '../../src/events/event-log.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
const ID = '0000000000abcdef';
const cancel: StopReason = { status: 'cancelled', cause: 'cancel requested' };

function queued(): BuildRecord {
  return { build: newBuild(ID, '/projects/app', new Date(T0 - 1000)), idempotencyKey: null, isHistorySealed: false };
}

/** Applies the events one after the other, as BuildRun does, and collects what they append. */
function play(record: BuildRecord, events: readonly BuildRunEvent[]): { record: BuildRecord; events: NewEvent[] } {
  const appended: NewEvent[] = [];
  let current = record;
  for (const event of events) {
    const next = advanceBuild(current, event);
    current = next.record;
    appended.push(...next.events);
  }
  return { record: current, events: appended };
}

function started(): BuildRecord {
  return play(queued(), [{ type: 'started', workerName: 'w1', atMs: T0 }]).record;
}

function ranStep(record: BuildRecord, step: StepName, exitCode: number, atMs: number, stop: StopReason | null = null): BuildRecord {
  return play(record, [
    { type: 'step-due', step, stop: null, atMs: atMs - 500 },
    { type: 'step-ended', step, exitCode, startError: null, stop, projectProblem: null, atMs },
  ]).record;
}

function system(step: StepName | null, text: string, atMs: number): NewEvent {
  return { buildId: ID, event: 'log', data: { build: ID, step, stream: 'system', time: formatLogTime(atMs), ts: atMs, text, eol: true } };
}

function statuses(record: BuildRecord): string[] {
  return [record.build.status, ...record.build.steps.map((step) => `${step.name}:${step.status}`)];
}

describe('advanceBuild', () => {
  it('starts a build: running on its worker since the time of the event, with a build event', () => {
    const before = queued();
    const copy = structuredClone(before);
    const { record, events } = advanceBuild(before, { type: 'started', workerName: 'w1', atMs: T0 });
    expect(before).toEqual(copy);
    expect(record.build).toMatchObject({ status: 'running', worker: 'w1', startedAt: '2026-01-02T03:04:05.600Z' });
    expect(events).toEqual([{ buildId: ID, event: 'build', data: { build: record.build } }]);
    expect((events[0] as NewEvent<'build'>).data.build).not.toBe(record.build);
  });

  it('keeps the keys of the record in their order, and adds none', () => {
    const { record } = advanceBuild(queued(), { type: 'started', workerName: 'w1', atMs: T0 });
    expect(Object.keys(record)).toEqual(['build', 'idempotencyKey', 'isHistorySealed']);
    expect(Object.keys(record.build)).toEqual(Object.keys(queued().build));
  });

  it('runs a due step: running since then, a build event and the command as a system line', () => {
    const before = started();
    const copy = structuredClone(before);
    const { record, events } = advanceBuild(before, { type: 'step-due', step: 'install', stop: null, atMs: T0 + 10 });
    expect(before).toEqual(copy);
    expect(record.build.steps[0]).toEqual({ name: 'install', command: 'yarn install', status: 'running', exitCode: null, startedAt: new Date(T0 + 10).toISOString(), finishedAt: null });
    expect(record.build.steps[1]!.status).toBe('pending');
    expect(events).toEqual([{ buildId: ID, event: 'build', data: { build: record.build } }, system('install', '$ yarn install', T0 + 10)]);
  });

  it('skips a due step, without an event, when the build is stopped', () => {
    const { record, events } = advanceBuild(started(), { type: 'step-due', step: 'install', stop: cancel, atMs: T0 + 10 });
    expect(statuses(record)).toEqual(['running', 'install:skipped', 'build:pending']);
    expect(record.build.steps[0]!.startedAt).toBeNull();
    expect(events).toEqual([]);
  });

  it('skips the steps after a failed one', () => {
    const afterInstall = ranStep(started(), 'install', 1, T0 + 1000);
    const { record, events } = advanceBuild(afterInstall, { type: 'step-due', step: 'build', stop: null, atMs: T0 + 1001 });
    expect(statuses(record)).toEqual(['running', 'install:failed', 'build:skipped']);
    expect(events).toEqual([]);
  });

  it('runs the next step after a succeeded one', () => {
    const afterInstall = ranStep(started(), 'install', 0, T0 + 1000);
    const { record } = advanceBuild(afterInstall, { type: 'step-due', step: 'build', stop: null, atMs: T0 + 1001 });
    expect(statuses(record)).toEqual(['running', 'install:succeeded', 'build:running']);
  });

  it('notes the process group in the record, with no event', () => {
    const before = started();
    const { record, events } = advanceBuild(before, { type: 'process-group', processGroup: 4242 });
    expect(record.processGroup).toBe(4242);
    expect(before.processGroup).toBeUndefined();
    expect(record.build).toBe(before.build);
    expect(events).toEqual([]);
    expect(advanceBuild(record, { type: 'process-group', processGroup: null }).record.processGroup).toBeNull();
  });

  it('turns a line of output into a log event stamped with its time, the record unchanged', () => {
    const before = started();
    const { record, events } = advanceBuild(before, { type: 'output', step: 'install', stream: 'stderr', line: { text: 'warning \r', eol: false }, atMs: T0 + 7 });
    expect(record).toBe(before);
    expect(events).toEqual([
      { buildId: ID, event: 'log', data: { build: ID, step: 'install', stream: 'stderr', time: formatLogTime(T0 + 7), ts: T0 + 7, text: 'warning \r', eol: false } },
    ]);
  });

  it('says a stop is ending the processes, in the running step, and names those that left its group', () => {
    const running = play(started(), [{ type: 'step-due', step: 'install', stop: null, atMs: T0 }]).record;
    const processes = [
      { pid: 100, command: 'yarn install', isInGroup: true },
      { pid: 200, command: 'node daemon.js', isInGroup: false },
    ];
    const { record, events } = advanceBuild(running, { type: 'stopping', stop: cancel, processes, atMs: T0 + 50 });
    expect(record).toBe(running);
    expect(events).toEqual([
      system('install', 'Stopping the build (cancel requested): ending all of its processes', T0 + 50),
      system('install', "Ending pid 200 (node daemon.js): it left the build's process group", T0 + 50),
    ]);
  });

  it('says a stop with no running step without a step', () => {
    const { events } = advanceBuild(started(), { type: 'stopping', stop: cancel, processes: [], atMs: T0 });
    expect(events).toEqual([system(null, 'Stopping the build (cancel requested): ending all of its processes', T0)]);
  });

  it('names each process a step left running', () => {
    const { events } = advanceBuild(started(), {
      type: 'leftovers',
      step: 'build',
      processes: [
        { pid: 7, command: 'sleep 100', isInGroup: true },
        { pid: 8, command: 'node server.js', isInGroup: false },
      ],
      atMs: T0,
    });
    expect(events).toEqual([
      system('build', 'Ending pid 7 (sleep 100), which the build step left running', T0),
      system('build', 'Ending pid 8 (node server.js), which the build step left running', T0),
    ]);
  });

  describe('a step that ended', () => {
    const running = () => play(started(), [{ type: 'step-due', step: 'install', stop: null, atMs: T0 }]).record;
    const ended = (change: Partial<Extract<BuildRunEvent, { type: 'step-ended' }>>) =>
      advanceBuild(running(), { type: 'step-ended', step: 'install', exitCode: 0, startError: null, stop: null, projectProblem: null, atMs: T0 + 900, ...change });

    it('succeeded on exit code 0, with its exit code, its end and a build event', () => {
      const { record, events } = ended({});
      expect(record.build.steps[0]).toMatchObject({ status: 'succeeded', exitCode: 0, finishedAt: new Date(T0 + 900).toISOString() });
      expect(events).toEqual([{ buildId: ID, event: 'build', data: { build: record.build } }]);
    });

    it('failed on any other exit code', () => {
      expect(ended({ exitCode: 2 }).record.build.steps[0]).toMatchObject({ status: 'failed', exitCode: 2 });
      expect(ended({ exitCode: 143 }).record.build.steps[0]).toMatchObject({ status: 'failed', exitCode: 143 });
    });

    it('takes the status of the stop in force at its exit, whatever its exit code', () => {
      expect(ended({ exitCode: 143, stop: cancel }).record.build.steps[0]).toMatchObject({ status: 'cancelled', exitCode: 143 });
      expect(ended({ exitCode: 0, stop: { status: 'timed_out', cause: 'slow' } }).record.build.steps[0]).toMatchObject({ status: 'timed_out', exitCode: 0 });
    });

    it('that could not start failed, with a system line that says why', () => {
      const { record, events } = ended({ exitCode: null, startError: '/bin/yarn does not exist', projectProblem: 'ignored' });
      expect(record.build.steps[0]).toMatchObject({ status: 'failed', exitCode: null });
      expect(events).toEqual([system('install', 'Could not run yarn install: /bin/yarn does not exist', T0 + 900), { buildId: ID, event: 'build', data: { build: record.build } }]);
    });

    it('that failed says that the project is gone, before its build event', () => {
      const { events } = ended({ exitCode: 1, projectProblem: 'The project folder /projects/app no longer exists' });
      expect(events.map((event) => event.event)).toEqual(['log', 'build']);
      expect(events[0]).toEqual(system('install', 'The project folder /projects/app no longer exists', T0 + 900));
    });

    it('that succeeded says nothing of the project', () => {
      expect(ended({ exitCode: 0, projectProblem: 'The project folder /projects/app no longer exists' }).events.map((event) => event.event)).toEqual(['build']);
    });
  });

  describe('the end of a build', () => {
    it('succeeded when every step did: the verdict line, the build event and the end, in that order', () => {
      const done = ranStep(ranStep(started(), 'install', 0, T0 + 1000), 'build', 0, T0 + 3000);
      const { record, events } = advanceBuild(done, { type: 'finished', stop: null, atMs: T0 + 3210 });
      expect(record.build).toMatchObject({ status: 'succeeded', exitCode: 0, finishedAt: new Date(T0 + 3210).toISOString(), durationMs: 3210 });
      expect(events).toEqual([
        system(null, 'Build succeeded in 3.2 s (exit code 0)', T0 + 3210),
        { buildId: ID, event: 'build', data: { build: record.build } },
        { buildId: ID, event: 'end', data: { build: record.build } },
      ]);
    });

    it('failed with the exit code of the step that failed when it skipped the rest', () => {
      const failed = ranStep(started(), 'install', 1, T0 + 1000);
      const skipped = advanceBuild(failed, { type: 'step-due', step: 'build', stop: null, atMs: T0 + 1000 }).record;
      const { record, events } = advanceBuild(skipped, { type: 'finished', stop: null, atMs: T0 + 1050 });
      expect(statuses(record)).toEqual(['failed', 'install:failed', 'build:skipped']);
      expect(record.build.exitCode).toBe(1);
      expect(events[0]).toEqual(system(null, 'Build failed in 1.1 s (exit code 1)', T0 + 1050));
    });

    it('has the stop status, and says after how long and why, when it was stopped', () => {
      const stopped = ranStep(started(), 'install', 143, T0 + 2000, cancel);
      const skipped = advanceBuild(stopped, { type: 'step-due', step: 'build', stop: cancel, atMs: T0 + 2000 }).record;
      const { record, events } = advanceBuild(skipped, { type: 'finished', stop: cancel, atMs: T0 + 2000 });
      expect(statuses(record)).toEqual(['cancelled', 'install:cancelled', 'build:skipped']);
      expect(events[0]).toEqual(system(null, 'Build cancelled after 2.0 s (exit code 143): cancel requested', T0 + 2000));
    });

    it('fails a build whose steps succeeded when the stop is a storage failure', () => {
      const done = ranStep(ranStep(started(), 'install', 0, T0 + 1000), 'build', 0, T0 + 2000);
      const stop: StopReason = { status: 'failed', cause: 'DATA_DIR refused a write (ENOSPC)', isStorageFailure: true };
      const { record, events } = advanceBuild(done, { type: 'finished', stop, atMs: T0 + 2000 });
      expect(statuses(record)).toEqual(['failed', 'install:succeeded', 'build:succeeded']);
      expect(events[0]).toEqual(system(null, 'Build failed after 2.0 s (exit code 0): DATA_DIR refused a write (ENOSPC)', T0 + 2000));
    });

    it('skips the steps that were still due or running (the server failed while running it)', () => {
      const running = play(started(), [{ type: 'step-due', step: 'install', stop: null, atMs: T0 }]).record;
      const stop: StopReason = { status: 'failed', cause: 'the server failed to run it (boom)' };
      const { record, events } = advanceBuild(running, { type: 'finished', stop, atMs: T0 + 100 });
      expect(statuses(record)).toEqual(['failed', 'install:skipped', 'build:skipped']);
      expect(record.build.exitCode).toBeNull();
      expect(events[0]).toEqual(system(null, 'Build failed after 0.1 s: the server failed to run it (boom)', T0 + 100));
    });

    it('of a build that never started: every step skipped, no duration, no exit code', () => {
      const before = queued();
      const copy = structuredClone(before);
      const { record, events } = advanceBuild(before, { type: 'unstarted', stop: { status: 'interrupted', cause: 'the server is shutting down' }, atMs: T0 });
      expect(before).toEqual(copy);
      expect(record.build).toMatchObject({ status: 'interrupted', startedAt: null, finishedAt: new Date(T0).toISOString(), exitCode: null, durationMs: null, worker: null });
      expect(statuses(record)).toEqual(['interrupted', 'install:skipped', 'build:skipped']);
      expect(events).toEqual([
        system(null, 'Build interrupted before it started: the server is shutting down', T0),
        { buildId: ID, event: 'build', data: { build: record.build } },
        { buildId: ID, event: 'end', data: { build: record.build } },
      ]);
    });
  });
});

describe('endLostBuild', () => {
  const cause = 'the server stopped while it was running';

  it('ends a running build interrupted: its running step interrupted, the rest skipped, the process group forgotten', () => {
    const running = { ...ranStep(started(), 'install', 0, T0 + 1000), processGroup: 4242 };
    const due = play(running, [{ type: 'step-due', step: 'build', stop: null, atMs: T0 + 1000 }]).record;
    const copy = structuredClone(due);
    const { record, events } = endLostBuild(due, cause, T0 + 2500);
    expect(due).toEqual(copy);
    expect(statuses(record)).toEqual(['interrupted', 'install:succeeded', 'build:interrupted']);
    expect(record.build).toMatchObject({ finishedAt: new Date(T0 + 2500).toISOString(), durationMs: 2500, exitCode: null });
    expect(record.build.steps[1]).toMatchObject({ exitCode: null, finishedAt: new Date(T0 + 2500).toISOString() });
    expect(record.build.steps[0]).toBe(due.build.steps[0]);
    expect(record.processGroup).toBeNull();
    expect(Object.keys(record)).toEqual(Object.keys(due));
    expect(events).toEqual([
      system(null, 'Build interrupted: the server stopped while it was running', T0 + 2500),
      { buildId: ID, event: 'build', data: { build: record.build } },
      { buildId: ID, event: 'end', data: { build: record.build } },
    ]);
    expect((events[1] as NewEvent<'build'>).data.build).not.toBe(record.build);
  });

  it('ends a queued build interrupted with every step skipped and no duration', () => {
    const { record, events } = endLostBuild(queued(), 'its worker w1 was lost (no heartbeat for over 3.0 s)', T0);
    expect(statuses(record)).toEqual(['interrupted', 'install:skipped', 'build:skipped']);
    expect(record.build).toMatchObject({ startedAt: null, durationMs: null, finishedAt: new Date(T0).toISOString() });
    expect(events[0]).toEqual(system(null, 'Build interrupted: its worker w1 was lost (no heartbeat for over 3.0 s)', T0));
  });

  it('counts no negative duration when the clock is behind the start', () => {
    expect(endLostBuild(started(), cause, T0 - 5000).record.build.durationMs).toBe(0);
  });

  it('keeps the record of a build that had ended, and gives its history only the build and end events', () => {
    const done = advanceBuild(ranStep(ranStep(started(), 'install', 0, T0 + 1000), 'build', 0, T0 + 3000), { type: 'finished', stop: null, atMs: T0 + 3210 }).record;
    const { record, events } = endLostBuild(done, cause, T0 + 60000);
    expect(record).toBe(done);
    expect(events).toEqual([
      { buildId: ID, event: 'build', data: { build: done.build } },
      { buildId: ID, event: 'end', data: { build: done.build } },
    ]);
  });
});

describe('systemLine', () => {
  it('is a whole log line of the system stream, stamped with its time', () => {
    expect(systemLine(ID, 'build', '3 lines of output were dropped', T0)).toEqual({
      buildId: ID,
      event: 'log',
      data: { build: ID, step: 'build', stream: 'system', time: formatLogTime(T0), ts: T0, text: '3 lines of output were dropped', eol: true },
    });
  });
});

describe('isDecidingExit', () => {
  const { build } = queued();

  it('is true for any exit of the last step, and for a failing exit of another', () => {
    expect(isDecidingExit(build, 'build', 0)).toBe(true);
    expect(isDecidingExit(build, 'install', 1)).toBe(true);
    expect(isDecidingExit(build, 'install', null)).toBe(true);
  });

  it('is false for a succeeding step that others follow', () => {
    expect(isDecidingExit(build, 'install', 0)).toBe(false);
  });
});

describe('verdictLine', () => {
  const ended = { ...queued().build, durationMs: 65000, exitCode: 137 };

  it('writes timed_out as two words', () => {
    expect(verdictLine({ ...ended, status: 'timed_out' }, { status: 'timed_out', cause: 'it ran longer than BUILD_TIMEOUT_MS (60.0 s)' })).toBe(
      'Build timed out after 65.0 s (exit code 137): it ran longer than BUILD_TIMEOUT_MS (60.0 s)',
    );
  });

  it('leaves out the exit code when no step exited', () => {
    expect(verdictLine({ ...ended, status: 'failed', exitCode: null }, null)).toBe('Build failed in 65.0 s');
  });
});

describe('formatSeconds', () => {
  it('rounds to a tenth of a second', () => {
    expect([formatSeconds(0), formatSeconds(3249), formatSeconds(3250), formatSeconds(120000)]).toEqual(['0.0 s', '3.2 s', '3.3 s', '120.0 s']);
  });
});
