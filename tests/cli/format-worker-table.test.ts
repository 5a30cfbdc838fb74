import type { WorkerInfo } from '../../src/builds/worker-info.js';
import { formatLastSeen, formatWorkerTable } from '../../src/cli/format-worker-table.js';

const NOW_MS = Date.parse('2026-01-02T03:04:10.000Z');

function worker(name: string, fields: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    name,
    status: 'idle',
    builds: [],
    maxConcurrentBuilds: 2,
    startedAt: '2026-01-02T03:00:00.000Z',
    lastSeenAt: '2026-01-02T03:04:07.400Z',
    ...fields,
  };
}

describe('formatWorkerTable', () => {
  it('aligns one row per worker by name: status, slots taken of its maximum, when last seen, its builds last', () => {
    const table = formatWorkerTable(
      [
        worker('ci-2', { status: 'busy', builds: ['0abc', '0def'], maxConcurrentBuilds: 4 }),
        worker('builder-eu-1', { status: 'lost', lastSeenAt: '2026-01-02T03:01:05.000Z' }),
        worker('ci-1'),
      ],
      NOW_MS,
    );
    expect(table).toBe(
      [
        'NAME          STATUS  SLOTS  LAST SEEN  BUILDS',
        'builder-eu-1  lost    0/2    3m05s ago  -',
        'ci-1          idle    0/2    2s ago     -',
        'ci-2          busy    2/4    2s ago     0abc,0def',
        '',
      ].join('\n'),
    );
  });

  it('says so when no process runs builds', () => expect(formatWorkerTable([], NOW_MS)).toBe('No workers.\n'));
});

describe('formatLastSeen', () => {
  it('says how long ago in the units of the build table', () => {
    expect(formatLastSeen('2026-01-02T03:04:09.200Z', NOW_MS)).toBe('0s ago');
    expect(formatLastSeen('2026-01-02T03:03:16.000Z', NOW_MS)).toBe('54s ago');
    expect(formatLastSeen('2026-01-02T01:02:00.000Z', NOW_MS)).toBe('2h02m ago');
    expect(formatLastSeen('2025-12-31T01:00:00.000Z', NOW_MS)).toBe('2d02h ago');
  });

  it('counts a time ahead of this clock (skew) as now, and shows `-` for a time it cannot read', () => {
    expect(formatLastSeen('2026-01-02T03:05:00.000Z', NOW_MS)).toBe('0s ago');
    expect(formatLastSeen('soon', NOW_MS)).toBe('-');
  });
});
