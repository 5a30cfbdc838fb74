import { loadPageModule, type FormatModule, type PermalinkModule } from './helpers/page-modules.js';

const { parseHash, formatHash } = await loadPageModule<PermalinkModule>('permalink');
const { formatDuration, clockTime, projectName } = await loadPageModule<FormatModule>('format');

describe('permalinks (public/js/permalink.js)', () => {
  it('reads #build=<id>&L<n> and writes it back', () => {
    expect(parseHash('#build=0lx2k3abcd12&L123')).toEqual({ build: '0lx2k3abcd12', line: 123 });
    expect(parseHash('#build=0lx2k3abcd12')).toEqual({ build: '0lx2k3abcd12', line: null });
    expect(formatHash('0lx2k3abcd12', 123)).toBe('#build=0lx2k3abcd12&L123');
    expect(formatHash('0lx2k3abcd12')).toBe('#build=0lx2k3abcd12');
  });

  it('ignores what it does not know, and ids or lines that cannot be ours', () => {
    expect(parseHash('')).toEqual({ build: null, line: null });
    expect(parseHash('#L0&build=<script>')).toEqual({ build: null, line: null });
    expect(parseHash('#foo&L7&build=abc')).toEqual({ build: 'abc', line: 7 });
  });
});

describe('formatting (public/js/format.js)', () => {
  it('says durations in the unit people read', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3240)).toBe('3.2 s');
    expect(formatDuration(125000)).toBe('2 min 05 s');
    expect(formatDuration(null)).toBe('');
  });

  it('shortens times and paths', () => {
    expect(clockTime('2024-05-01 12:03:04.567')).toBe('12:03:04.567');
    expect(projectName('/srv/projects/demo-app')).toBe('demo-app');
  });
});
