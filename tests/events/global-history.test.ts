import { GlobalHistory, type GlobalEvent } from '../../src/events/global-history.js';

/** Build histories in memory, read as BuildHistory reads them: never past a 1,000-byte "chunk" end. */
class FakeBuilds {
  readonly bytes = new Map<string, Buffer>();
  reads = 0;
  read = async (buildId: string, from: number, maxBytes: number): Promise<Buffer | null> => {
    this.reads += 1;
    const bytes = this.bytes.get(buildId);
    if (!bytes || from >= bytes.length) return null;
    const chunkEnd = (Math.floor(from / 1000) + 1) * 1000;
    return bytes.subarray(from, Math.min(from + maxBytes, chunkEnd, bytes.length));
  };

  /** Appends frames to a build; returns the global events they make. */
  append(buildId: string, firstNumber: number, sizes: number[], fill = 'x'): GlobalEvent[] {
    const before = this.bytes.get(buildId) ?? Buffer.alloc(0);
    let at = before.length;
    const events = sizes.map((size, i) => {
      const event = { number: firstNumber + i, size, buildId, buildFrom: at };
      at += size;
      return event;
    });
    this.bytes.set(buildId, Buffer.concat([before, Buffer.from(fill.repeat(at - before.length))]));
    return events;
  }
}

async function readAll(history: GlobalHistory, from: number, maxBytes = 100000): Promise<string | null> {
  const parts: Buffer[] = [];
  for (let at = from; at < history.head(); ) {
    const part = await history.read(at, maxBytes);
    if (part === null) return null;
    parts.push(part);
    at += part.length;
  }
  return Buffer.concat(parts).toString();
}

describe('GlobalHistory', () => {
  let builds: FakeBuilds;
  beforeEach(() => {
    builds = new FakeBuilds();
  });

  it('resumes after an event at the offset where it ended', () => {
    const history = new GlobalHistory(10, builds.read);
    history.append(builds.append('a', 1, [3, 4]));
    history.append(builds.append('a', 3, [5], 'y'));
    expect(history.head()).toBe(12);
    expect(history.offsetAfter(0)).toBe(0);
    expect(history.offsetAfter(1)).toBe(3);
    expect(history.offsetAfter(2)).toBe(7);
    expect(history.offsetAfter(3)).toBe(12);
  });

  it('reads its events from the build histories, across builds and flushes, in stream order', async () => {
    const history = new GlobalHistory(10, builds.read);
    history.append([...builds.append('a', 1, [3], 'a'), ...builds.append('b', 2, [2], 'b')]);
    history.append(builds.append('a', 3, [4], 'c'));
    expect(await history.read(1, 100).then(String)).toBe('aabbcccc');
    expect(await history.read(1, 3).then(String)).toBe('aab');
    expect((await history.read(9, 100))!.length).toBe(0);
    expect(await readAll(history, 0, 1)).toBe('aaabbcccc');
  });

  it('keeps one segment for events that follow each other in one build', () => {
    const history = new GlobalHistory(100, builds.read);
    for (let n = 1; n <= 50; n += 1) history.append(builds.append('a', n, [10]));
    expect(history.segmentCount).toBe(1);
    history.append(builds.append('b', 51, [10]));
    history.append(builds.append('a', 52, [10]));
    expect(history.segmentCount).toBe(3);
  });

  it('handles gaps in the numbering (events that are not on the global stream)', () => {
    const history = new GlobalHistory(10, builds.read);
    history.append([...builds.append('a', 1, [3]), ...builds.append('b', 3, [3])]);
    expect(history.offsetAfter(2)).toBe(3); // number 2 was another stream's `end`
  });

  it('refuses ids it never sent', () => {
    const history = new GlobalHistory(10, builds.read);
    history.append(builds.append('a', 1, [3]));
    expect(history.offsetAfter(2)).toBeNull();
  });

  it('drops the oldest events beyond its capacity, and says a resume from them is impossible', async () => {
    const history = new GlobalHistory(3, builds.read);
    for (let n = 1; n <= 5; n += 1) history.append(builds.append('a', n, [2], String(n)));
    expect(history.oldestDropped).toBe(2);
    expect(history.start).toBe(4);
    expect(history.offsetAfter(1)).toBeNull();
    expect(history.offsetAfter(2)).toBe(4); // everything after 2 is still kept
    expect(await readAll(history, history.start)).toBe('334455');
    expect(history.isKept(2)).toBe(false);
    expect(await history.read(2, 10)).toBeNull();
  });

  it('holds a few numbers per event, no bytes: 10,000 events of 64 KiB from alternating builds', () => {
    const sizes = Array.from({ length: 20000 }, () => 65536);
    const history = new GlobalHistory(10000, async () => Buffer.alloc(0));
    const before = process.memoryUsage().arrayBuffers;
    for (let n = 1; n <= sizes.length; n += 1) history.append([{ number: n, size: 65536, buildId: n % 2 ? 'a' : 'b', buildFrom: Math.floor(n / 2) * 65536 }]);
    expect(history.head() - history.start).toBe(10000 * 65536); // 655 MB of stream kept for resuming...
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20); // ...in under a megabyte
    expect(history.segmentCount).toBeLessThanOrEqual(10001);
  });

  it('forgets every event up to a deleted build\'s last one, so that a reader resuming there gets a reset', async () => {
    const history = new GlobalHistory(10, builds.read);
    history.append(builds.append('a', 1, [3], 'a'));
    history.append(builds.append('b', 2, [3], 'b'));
    history.append(builds.append('a', 3, [3], 'c'));
    history.append(builds.append('b', 4, [3], 'd'));
    history.forgetBuild('a');
    expect(history.start).toBe(9);
    expect(history.offsetAfter(1)).toBeNull();
    expect(history.offsetAfter(3)).toBe(9);
    expect(await readAll(history, history.start)).toBe('ddd');
  });

  it('gives null, and forgets through that run, when a build\'s history can no longer be read', async () => {
    const history = new GlobalHistory(10, builds.read);
    history.append(builds.append('a', 1, [3], 'a'));
    history.append(builds.append('b', 2, [3], 'b'));
    history.append(builds.append('c', 3, [3], 'c'));
    builds.bytes.delete('b'); // deleted behind our back
    expect(await history.read(0, 100)).toBeNull();
    expect(history.start).toBe(6); // a reader resuming from 1 or 2 now gets a reset, and never loops
    expect(history.offsetAfter(1)).toBeNull();
    expect(await readAll(history, history.start)).toBe('ccc');
  });
});
