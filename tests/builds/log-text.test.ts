import { renderLogEvent } from '../../src/builds/log-text.js';

const event = (stream: 'stdout' | 'stderr' | 'system', text: string, eol = true) => ({ stream, text, eol, time: '2026-11-21 10:00:00.123' });

describe('renderLogEvent', () => {
  it('stamps stdout lines with their time', () => expect(renderLogEvent(event('stdout', 'hi'), 'text')).toBe('[2026-11-21 10:00:00.123] hi\n'));
  it('marks stderr and system lines', () => {
    expect(renderLogEvent(event('stderr', 'oops'), 'text')).toBe('[2026-11-21 10:00:00.123] [stderr] oops\n');
    expect(renderLogEvent(event('system', '$ yarn build'), 'text')).toBe('[2026-11-21 10:00:00.123] [system] $ yarn build\n');
  });
  it('ends the line of an event that had no newline', () => expect(renderLogEvent(event('stdout', 'partial', false), 'text')).toBe('[2026-11-21 10:00:00.123] partial\n'));
  it('gives the exact output in raw rendering, without system lines', () => {
    expect(renderLogEvent(event('stdout', 'a\r', true), 'raw')).toBe('a\r\n');
    expect(renderLogEvent(event('stderr', 'partial', false), 'raw')).toBe('partial');
    expect(renderLogEvent(event('system', 'verdict'), 'raw')).toBe('');
  });
});
