import dayjs from 'dayjs';
import type { Build } from '../../src/builds/build-record.js';
import { formatBuildTable, formatDuration } from '../../src/cli/format-build-table.js';

function build(id: string, status: Build['status'], exitCode: number | null, durationMs: number | null, projectPath: string, worker: string | null = null): Build {
  return {
    id,
    projectPath,
    status,
    steps: [],
    createdAt: '2026-01-02T03:04:05.000Z',
    startedAt: null,
    finishedAt: null,
    exitCode,
    durationMs,
    worker,
    streamUrl: `/api/log/push?build=${id}`,
    logUrl: `/api/builds/${id}/log`,
  };
}

describe('formatBuildTable', () => {
  it('aligns one row per build under a header, its worker before the project, the project last', () => {
    const created = dayjs('2026-01-02T03:04:05.000Z').format('YYYY-MM-DD HH:mm:ss');
    const table = formatBuildTable([
      build('0abc', 'running', null, null, '/p/app', 'ci-1'),
      build('0abcdefgh', 'failed', 3, 1234, '/p/other', 'builder-eu-2'),
      build('0q', 'queued', null, null, '/p/third'),
    ]);
    expect(table).toBe(
      [
        'ID         STATUS   EXIT  DURATION  CREATED              WORKER        PROJECT',
        `0abc       running  -     -         ${created}  ci-1          /p/app`,
        `0abcdefgh  failed   3     1.2s      ${created}  builder-eu-2  /p/other`,
        `0q         queued   -     -         ${created}  -             /p/third`,
        '',
      ].join('\n'),
    );
  });

  it('shows `-` for the worker of a build recorded before builds named their worker', () => {
    const { worker: _, ...older } = build('0old', 'succeeded', 0, 500, '/p/app', 'gone');
    expect(formatBuildTable([older as Build]).split('\n')[1]).toMatch(/ +- +\/p\/app$/);
  });

  it('says so when there are no builds', () => expect(formatBuildTable([])).toBe('No builds yet.\n'));
});

describe('formatDuration', () => {
  it('shows seconds with one decimal under a minute, then minutes and seconds', () => {
    expect(formatDuration(860)).toBe('0.9s');
    expect(formatDuration(75000)).toBe('1m15s');
    expect(formatDuration(3600000)).toBe('60m00s');
  });
});
