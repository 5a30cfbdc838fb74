import type { Build, BuildStep } from '../../src/builds/build-record.js';
import { ExitCode, exitCodeForBuild, exitCodeForSignal } from '../../src/cli/exit-codes.js';

function step(name: 'install' | 'build', status: BuildStep['status'], exitCode: number | null): BuildStep {
  return { name, command: `yarn ${name}`, status, exitCode, startedAt: null, finishedAt: null };
}

function build(status: Build['status'], exitCode: number | null, steps: BuildStep[] = []): Pick<Build, 'status' | 'exitCode' | 'steps'> {
  return { status, exitCode, steps };
}

describe('exitCodeForBuild', () => {
  it('is 0 for a build that succeeded', () => expect(exitCodeForBuild(build('succeeded', 0))).toBe(0));

  it("passes a failed build's own code through, so 3 stays 3", () =>
    expect(exitCodeForBuild(build('failed', 3, [step('install', 'succeeded', 0), step('build', 'failed', 3)]))).toBe(3));

  it('falls back on the failed step when the build has no code', () =>
    expect(exitCodeForBuild(build('failed', null, [step('install', 'failed', 2), step('build', 'skipped', null)]))).toBe(2));

  it('is never 0 for a failed build: no code at all (yarn could not start) or 0 becomes 1', () => {
    expect(exitCodeForBuild(build('failed', null, [step('install', 'failed', null)]))).toBe(1);
    expect(exitCodeForBuild(build('failed', 0))).toBe(1);
  });

  it('has codes of its own for cancelled, timed out and interrupted builds', () => {
    expect(exitCodeForBuild(build('cancelled', 143))).toBe(ExitCode.cancelled);
    expect(exitCodeForBuild(build('timed_out', 143))).toBe(ExitCode.timedOut);
    expect(exitCodeForBuild(build('interrupted', null))).toBe(ExitCode.interrupted);
    expect([ExitCode.cancelled, ExitCode.timedOut, ExitCode.interrupted]).toEqual([125, 124, 75]);
  });

  it('is null while the build is not over', () => {
    expect(exitCodeForBuild(build('queued', null))).toBeNull();
    expect(exitCodeForBuild(build('running', null))).toBeNull();
  });

  it('reports a status it does not know as a protocol error', () =>
    expect(exitCodeForBuild(build('exploded' as Build['status'], null))).toBe(ExitCode.protocol));
});

describe('exitCodeForSignal', () => {
  it('is 128 + the signal number, as a shell reports it', () => {
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
  });
});
