import { loadPageModule, type BuildLogModule, type LogEventData } from '../../helpers/page-modules.js';

const { BuildLog } = await loadPageModule<BuildLogModule>('build-log');

const event = (text: string, eol: boolean, stream: LogEventData['stream'] = 'stdout', step: LogEventData['step'] = 'build'): LogEventData => ({
  build: 'b',
  step,
  stream,
  time: '2024-05-01 12:00:00.000',
  ts: 0,
  text,
  eol,
});

describe('BuildLog (public/js/build-log.js)', () => {
  it('makes one line per event that ends with a newline, numbered from 1', () => {
    const log = new BuildLog();
    log.append(event('one', true));
    log.append(event('two', true));
    expect(log.lines.map((l) => [l.number, l.text])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
  });

  it('continues a line with the next event of the same stream after eol:false (a long line in pieces)', () => {
    const log = new BuildLog();
    log.append(event('a'.repeat(65536), false));
    log.append(event('b'.repeat(65536), false));
    log.append(event('end', true));
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.text).toBe(`${'a'.repeat(65536)}${'b'.repeat(65536)}end`);
  });

  it('lets another stream write its own lines while one stream has an open line', () => {
    const log = new BuildLog();
    log.append(event('progress 10%', false));
    log.append(event('a warning', true, 'stderr'));
    log.append(event('\rprogress 100%', true));
    expect(log.lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'progress 100%'],
      ['stderr', 'a warning'],
    ]);
  });

  it('groups lines in a section per step, in order, with the stepless verdict last', () => {
    const log = new BuildLog();
    log.append(event('$ yarn install', true, 'system', 'install'));
    log.append(event('$ yarn build', true, 'system', 'build'));
    log.append(event('Build succeeded in 1.0 s (exit code 0)', true, 'system', null));
    expect(log.sections.map((s) => [s.step, s.lines.map((l) => l.number)])).toEqual([
      ['install', [1]],
      ['build', [2]],
      [null, [3]],
    ]);
  });

  it('reports the lines added or changed since the last call, and a clear', () => {
    const log = new BuildLog();
    expect(log.takeChanges()).toEqual({ wasCleared: true, lineIndexes: [] });
    log.append(event('one', true));
    log.append(event('two', false));
    expect(log.takeChanges()).toEqual({ wasCleared: false, lineIndexes: [0, 1] });
    log.append(event(' more', true));
    expect(log.takeChanges()).toEqual({ wasCleared: false, lineIndexes: [1] });
    log.clear();
    expect(log.lines).toEqual([]);
    expect(log.takeChanges().wasCleared).toBe(true);
  });
});
