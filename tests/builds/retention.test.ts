import { newBuild, type Build, type BuildStatus } from '../../src/builds/build-record.js';
import { selectExpiredBuilds } from '../../src/builds/retention.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW_MS = Date.UTC(2026, 5, 15);

/** A build of a project, `daysAgo` days old, newest first in the lists below. */
function build(id: string, project: string, status: BuildStatus, daysAgo: number): Build {
  const at = new Date(NOW_MS - daysAgo * DAY_MS);
  return { ...newBuild(id, `/projects/${project}`, at), status, finishedAt: status === 'queued' || status === 'running' ? null : at.toISOString() };
}

describe('selectExpiredBuilds', () => {
  it('keeps the KEEP_BUILDS newest finished builds of each project', () => {
    const builds = [build('a4', 'a', 'succeeded', 1), build('b1', 'b', 'failed', 2), build('a3', 'a', 'failed', 3), build('a2', 'a', 'cancelled', 4), build('a1', 'a', 'succeeded', 5)];
    expect(selectExpiredBuilds(builds, { keepBuilds: 2, keepDays: 0 }, NOW_MS)).toEqual(['a2', 'a1']);
  });

  it('deletes finished builds older than KEEP_DAYS, whatever their number', () => {
    const builds = [build('a2', 'a', 'succeeded', 10), build('b1', 'b', 'timed_out', 31), build('a1', 'a', 'interrupted', 40)];
    expect(selectExpiredBuilds(builds, { keepBuilds: 0, keepDays: 30 }, NOW_MS)).toEqual(['b1', 'a1']);
  });

  it('never deletes a queued or running build, nor counts it as newer', () => {
    const builds = [build('a3', 'a', 'queued', 0), build('a2', 'a', 'running', 0), build('a1', 'a', 'succeeded', 1), build('old', 'b', 'running', 400)];
    expect(selectExpiredBuilds(builds, { keepBuilds: 1, keepDays: 30 }, NOW_MS)).toEqual([]);
  });

  it('keeps everything when both limits are 0', () => {
    const builds = [build('a2', 'a', 'succeeded', 1000), build('a1', 'a', 'succeeded', 2000)];
    expect(selectExpiredBuilds(builds, { keepBuilds: 0, keepDays: 0 }, NOW_MS)).toEqual([]);
  });

  it('ages a record without a finishedAt from its creation', () => {
    const old = { ...build('a1', 'a', 'interrupted', 50), finishedAt: null };
    expect(selectExpiredBuilds([old], { keepBuilds: 0, keepDays: 30 }, NOW_MS)).toEqual(['a1']);
  });
});
