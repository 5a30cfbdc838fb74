import { loadPageModule, type LogSearchModule } from '../../helpers/page-modules.js';

const { LogSearch, findAll } = await loadPageModule<LogSearchModule>('log-search');

const lines = (...texts: string[]) => texts.map((text) => ({ text }));

describe('LogSearch (public/js/log-search.js)', () => {
  it('finds every occurrence, ignoring case, without overlaps', () => {
    expect(findAll('Error error ERROR', 'error')).toEqual([0, 6, 12]);
    expect(findAll('aaaa', 'aa')).toEqual([0, 2]);
    expect(findAll('anything', '')).toEqual([]);
  });

  it('counts matches over all lines and walks them with next and previous, wrapping around', () => {
    const log = lines('warn one', 'nothing', 'WARN two warn three');
    const search = new LogSearch();
    search.setQuery('warn', log);
    expect(search.count).toBe(3);
    expect(search.position).toBe(0);
    expect(search.next()).toEqual({ line: 0, k: 0 });
    expect(search.next()).toEqual({ line: 2, k: 0 });
    expect(search.next()).toEqual({ line: 2, k: 1 });
    expect(search.position).toBe(3);
    expect(search.next()).toEqual({ line: 0, k: 0 });
    expect(search.previous()).toEqual({ line: 2, k: 1 });
    expect(search.matchesIn(2, log)).toEqual([0, 9]);
  });

  it('stays current as lines arrive and change', () => {
    const log = lines('warn', 'x');
    const search = new LogSearch();
    search.setQuery('warn', log);
    search.next();
    log.push({ text: 'later warn' });
    log[1]!.text = 'x warn';
    search.update(log, [1, 2]);
    expect(search.count).toBe(3);
    expect(search.position).toBe(1);
    log[1]!.text = 'x';
    search.update(log, [1]);
    expect(search.count).toBe(2);
    expect(search.next()).toEqual({ line: 2, k: 0 });
    expect(search.position).toBe(2);
  });

  it('has no match and no position for an empty query or after the log is cleared', () => {
    const search = new LogSearch();
    search.setQuery('', lines('a'));
    expect(search.next()).toBeNull();
    search.setQuery('a', lines('a'));
    search.clearLines();
    expect(search.count).toBe(0);
  });
});
