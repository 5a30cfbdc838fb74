import { loadPageModule, type WorkerInfo, type WorkerRowModule } from '../../helpers/page-modules.js';

const { WORKER_STATUSES, workerStatusLabel, formatAgo, workerCaption, workerRow, workerRows } = await loadPageModule<WorkerRowModule>('worker-row');

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

describe('a worker row of the Workers view (public/js/worker-row.js)', () => {
  it('shows a busy worker with its builds as links, its slots taken of its maximum, and when it was seen', () => {
    expect(workerRow(worker('ci-1', { status: 'busy', builds: ['0abc', '0def'] }), NOW_MS)).toEqual({
      name: 'ci-1',
      status: 'busy',
      statusLabel: 'busy',
      statusClass: 'status-busy',
      builds: [
        { id: '0abc', href: '#build=0abc' },
        { id: '0def', href: '#build=0def' },
      ],
      slots: '2/2',
      lastSeen: '2 s ago',
      lastSeenAt: '2026-01-02T03:04:07.400Z',
    });
  });

  it('shows an idle worker with every slot free', () => {
    const row = workerRow(worker('ci-2', { maxConcurrentBuilds: 4 }), NOW_MS);
    expect(row).toMatchObject({ statusLabel: 'idle', statusClass: 'status-idle', builds: [], slots: '0/4' });
  });

  it("labels and styles each of the contract's statuses, and leaves one it does not know unstyled but readable", () => {
    expect(WORKER_STATUSES.map(workerStatusLabel)).toEqual(['idle', 'busy', 'stopping', 'lost']);
    expect(workerRow(worker('w', { status: 'lost' }), NOW_MS).statusClass).toBe('status-lost');
    const odd = workerRow(worker('w', { status: 'napping' as WorkerInfo['status'] }), NOW_MS);
    expect(odd).toMatchObject({ statusLabel: 'napping', statusClass: 'status-unknown' });
  });

  it('keeps markup in a name or a build id as text for the view to put in text nodes, never in a class', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const row = workerRow(worker(hostile, { status: `busy" onclick="x` as WorkerInfo['status'], builds: [hostile] }), NOW_MS);
    expect(row.name).toBe(hostile);
    expect(row.builds[0]!.id).toBe(hostile);
    expect(row.statusClass).toBe('status-unknown');
  });

  it('says nothing of when a worker was seen when its time is unreadable', () =>
    expect(workerRow(worker('w', { lastSeenAt: 'yesterday' }), NOW_MS)).toMatchObject({ lastSeen: '', lastSeenAt: '' }));

  it('orders the workers by name, whatever order the cluster answered in', () =>
    expect(workerRows([worker('b'), worker('c'), worker('a')], NOW_MS).map((row) => row.name)).toEqual(['a', 'b', 'c']));
});

describe('how long ago a worker was seen', () => {
  it('says it in the unit people read', () => {
    expect(formatAgo(400)).toBe('just now');
    expect(formatAgo(12_900)).toBe('12 s ago');
    expect(formatAgo(185_000)).toBe('3 min ago');
    expect(formatAgo(2 * 3_600_000 + 59_000)).toBe('2 h ago');
    expect(formatAgo(4 * 86_400_000)).toBe('4 d ago');
  });

  it('says "just now" for a time ahead of this clock (a skewed clock), and nothing for no time', () => {
    expect(formatAgo(-5000)).toBe('just now');
    expect(formatAgo(null)).toBe('');
    expect(formatAgo(Number.NaN)).toBe('');
  });
});

describe("a build's worker caption", () => {
  it('names the worker that runs or ran the build', () => expect(workerCaption({ worker: 'ci-1' })).toBe('on ci-1'));

  it('says nothing while the build is queued, or for a build recorded before builds named their worker', () => {
    expect(workerCaption({ worker: null })).toBe('');
    expect(workerCaption({})).toBe('');
    expect(workerCaption(null)).toBe('');
  });
});
