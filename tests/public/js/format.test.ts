import { loadPageModule, type FormatModule } from '../../helpers/page-modules.js';

const { formatDuration, elapsedMs, clockTime, projectName, shortDateTime, statusLabel, isFinished } = await loadPageModule<FormatModule>('format');

describe('formatting (public/js/format.js)', () => {
  it('says durations in the unit people read', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3240)).toBe('3.2 s');
    expect(formatDuration(125000)).toBe('2 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });

  it('says nothing for a missing duration and never a negative one', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(Number.NaN)).toBe('');
    expect(formatDuration(-40)).toBe('0 ms');
  });

  it('measures between two ISO times, or up to now while there is no end', () => {
    expect(elapsedMs('2024-05-01T12:00:00.000Z', '2024-05-01T12:00:03.500Z')).toBe(3500);
    expect(elapsedMs('2024-05-01T12:00:00.000Z', null, Date.parse('2024-05-01T12:01:00.000Z'))).toBe(60000);
    expect(elapsedMs(null, '2024-05-01T12:00:03.500Z')).toBeNull();
  });

  it('shortens times and paths', () => {
    expect(clockTime('2024-05-01 12:03:04.567')).toBe('12:03:04.567');
    expect(clockTime('12:03:04')).toBe('12:03:04');
    expect(projectName('/srv/projects/demo-app')).toBe('demo-app');
    expect(projectName('/srv/projects/demo-app/')).toBe('demo-app');
    expect(projectName('demo-app')).toBe('demo-app');
  });

  it('shows the local time alone today, and the date with hours and minutes on another day', () => {
    const now = new Date(2024, 4, 2, 18, 0, 0);
    expect(shortDateTime(new Date(2024, 4, 2, 14, 3, 27).toISOString(), now)).toBe('14:03:27');
    expect(shortDateTime(new Date(2024, 4, 1, 9, 5, 7).toISOString(), now)).toBe('2024-05-01 09:05');
  });

  it('labels statuses for people and knows which ones are final', () => {
    expect(statusLabel('timed_out')).toBe('timed out');
    expect(statusLabel('running')).toBe('running');
    expect(['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'].every(isFinished)).toBe(true);
    expect(['queued', 'running', 'loading'].some(isFinished)).toBe(false);
  });
});
