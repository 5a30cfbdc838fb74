import { GlobalHistory } from '../../src/events/global-history.js';

/** Appends events of the given sizes as one flush; returns their end offsets. */
function appendEvents(history: GlobalHistory, firstNumber: number, sizes: number[], fill = 'x'): void {
  let end = 0;
  const events = sizes.map((size, i) => {
    end += size;
    return { number: firstNumber + i, end };
  });
  history.append(Buffer.from(fill.repeat(end)), events);
}

describe('GlobalHistory', () => {
  it('resumes after an event at the offset where it ended', () => {
    const history = new GlobalHistory(10);
    appendEvents(history, 1, [3, 4]);
    appendEvents(history, 3, [5], 'y');
    expect(history.head()).toBe(12);
    expect(history.offsetAfter(0)).toBe(0);
    expect(history.offsetAfter(1)).toBe(3);
    expect(history.offsetAfter(2)).toBe(7);
    expect(history.offsetAfter(3)).toBe(12);
  });

  it('reads across flushes as one slice of the bytes it keeps', () => {
    const history = new GlobalHistory(10);
    appendEvents(history, 1, [3], 'a');
    appendEvents(history, 2, [3], 'b');
    expect(history.readNow(1, 100)!.toString()).toBe('aabbb');
    expect(history.readNow(1, 3)!.toString()).toBe('aab');
    expect(history.readNow(6, 100)!.length).toBe(0);
  });

  it('handles gaps in the numbering (events that are not on the global stream)', () => {
    const history = new GlobalHistory(10);
    history.append(Buffer.from('aaabbb'), [
      { number: 1, end: 3 },
      { number: 3, end: 6 },
    ]);
    expect(history.offsetAfter(2)).toBe(3); // number 2 was another stream's `end`
  });

  it('refuses ids it never sent', () => {
    const history = new GlobalHistory(10);
    appendEvents(history, 1, [3]);
    expect(history.offsetAfter(2)).toBeNull();
  });

  it('drops the oldest events beyond its capacity, and says a resume from them is impossible', () => {
    const history = new GlobalHistory(3);
    for (let n = 1; n <= 5; n += 1) appendEvents(history, n, [2], String(n));
    expect(history.oldestDropped).toBe(2);
    expect(history.start).toBe(4);
    expect(history.offsetAfter(1)).toBeNull();
    expect(history.offsetAfter(2)).toBe(4); // everything after 2 is still kept
    expect(history.readNow(history.start, 100)!.toString()).toBe('334455');
    expect(history.isKept(2)).toBe(false);
    expect(history.readNow(2, 10)).toBeNull();
  });

  it('keeps memory bounded: chunks wholly before the oldest kept event are released', () => {
    const history = new GlobalHistory(100);
    for (let n = 1; n <= 10000; n += 1) appendEvents(history, n, [1000]);
    const chunks = (history as unknown as { chunks: unknown[]; chunkHead: number });
    expect(chunks.chunks.length - chunks.chunkHead).toBeLessThanOrEqual(101);
    expect(history.head() - history.start).toBe(100 * 1000);
  });
});
