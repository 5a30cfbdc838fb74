import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildHistory, CHUNK_BYTES, nodeHistoryFileSystem, type HistoryFileSystem } from '../../src/events/build-history.js';
import { HistoryChunkCache } from '../../src/events/history-chunk-cache.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';
import { diskThatFillsAfter } from '../helpers/full-disk.js';

const frame = (boot: string, number: number, position: number, event = 'log', text = `line ${position}`) =>
  encodeFrame({ id: `${boot}-${number}-${position}`, event, data: JSON.stringify({ text }) });

/** Appends frames as one flush, as the event log does. */
function appendFrames(history: BuildHistory, frames: Array<{ text: string; number: number }>, isFinal = false) {
  let end = 0;
  const events = frames.map(({ text, number }) => {
    end += Buffer.byteLength(text);
    return { number, end };
  });
  return history.append(Buffer.from(frames.map((f) => f.text).join('')), events, isFinal);
}

/** Reads a whole history through its public read(), as a replaying client does. */
async function readAll(history: BuildHistory): Promise<string> {
  const parts: Buffer[] = [];
  for (let at = 0; at < history.head(); ) {
    const part = (await history.read(at, 300000))!;
    parts.push(part);
    at += part.length;
  }
  return Buffer.concat(parts).toString();
}

/** A history of n frames written by one BuildHistory, closed: what a restart finds. */
function writeHistory(file: string, count: number, text = (i: number) => `line ${i}`, end = true): string[] {
  const history = BuildHistory.create('b1', file);
  const frames: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const f = frame('x', i, i, end && i === count ? 'end' : 'log', text(i));
    frames.push(f);
    appendFrames(history, [{ text: f, number: i }], end && i === count);
  }
  history.close();
  return frames;
}

describe('BuildHistory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'history-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes each flush to its file before anyone reads it, and indexes every event', async () => {
    const file = path.join(dir, 'events.sse');
    const history = BuildHistory.create('b1', file);
    const a = frame('x', 10, 1);
    const b = frame('x', 11, 2);
    appendFrames(history, [{ text: a, number: 10 }, { text: b, number: 11 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe(a + b);
    expect(await history.offsetAfter(1, 10)).toBe(Buffer.byteLength(a));
    expect(await history.offsetAfter(2, 11)).toBe(history.head());
    expect((await history.read(Buffer.byteLength(a), 1000))!.toString()).toBe(b);
    history.close();
  });

  it('rejects an id whose global number does not match the event at that position', async () => {
    const history = BuildHistory.create('b1', path.join(dir, 'events.sse'));
    appendFrames(history, [{ text: frame('x', 10, 1), number: 10 }]);
    expect(await history.offsetAfter(1, 99)).toBeNull();
    expect(await history.offsetAfter(2, 11)).toBeNull();
    expect(await history.offsetAfter(0, 0)).toBe(0);
    history.close();
  });

  it('reopens a finished history from its tail: knows it is complete and how many events it holds', async () => {
    const file = path.join(dir, 'events.sse');
    const frames = writeHistory(file, 3);
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toBeNull();
    expect(history.isComplete()).toBe(true);
    expect(history.head()).toBe(Buffer.byteLength(frames.join('')));
    expect(history.eventCount).toBe(3); // the last frame's position, read from the tail
    expect(await history.offsetAfter(1, 1)).toBe(Buffer.byteLength(frames[0]!));
    expect(await readAll(history)).toBe(frames.join(''));
    history.close();
  });

  it('leaves out a torn last frame and cuts it off before appending', async () => {
    const file = path.join(dir, 'events.sse');
    const whole = frame('x', 1, 1);
    fs.writeFileSync(file, whole + 'id: x-2-2\nevent: lo');
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toMatch(/torn/);
    expect(history.head()).toBe(Buffer.byteLength(whole));
    expect(history.isComplete()).toBe(false);
    expect(history.eventCount).toBe(1);
    const next = frame('y', 5, 2);
    appendFrames(history, [{ text: next, number: 5 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe(whole + next);
    expect(await readAll(history)).toBe(whole + next);
    history.close();
  });

  it('leaves out a last frame that is not ours, and cuts it before appending', async () => {
    const file = path.join(dir, 'events.sse');
    const first = frame('x', 1, 1);
    fs.writeFileSync(file, first + 'garbage\n\n');
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toMatch(/malformed/);
    expect(history.eventCount).toBe(1);
    expect(history.head()).toBe(Buffer.byteLength(first));
    const next = frame('y', 7, 2);
    appendFrames(history, [{ text: next, number: 7 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe(first + next);
    history.close();
  });

  it('leaves out a torn last frame larger than any tail window', async () => {
    const file = path.join(dir, 'events.sse');
    const frames = writeHistory(file, 3, undefined, false);
    fs.appendFileSync(file, 'id: x-4-4\nevent: log\ndata: {"text":"' + 'q'.repeat(CHUNK_BYTES + 5000));
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toMatch(/torn/);
    expect(history.head()).toBe(Buffer.byteLength(frames.join('')));
    expect(history.eventCount).toBe(3);
    expect(await readAll(history)).toBe(frames.join(''));
    history.close();
  });

  it('steps over a frame that is not ours in the middle when it looks for a resume', async () => {
    const file = path.join(dir, 'events.sse');
    const first = frame('x', 1, 1);
    const third = frame('x', 3, 3);
    fs.writeFileSync(file, first + 'garbage\n\n' + third);
    const { history } = await BuildHistory.open('b1', file);
    expect(history.eventCount).toBe(3);
    expect(await history.offsetAfter(3, 3)).toBe(history.head());
    expect(await history.offsetAfter(1, 1)).toBe(Buffer.byteLength(first));
    expect(await history.offsetAfter(2, 2)).toBeNull(); // the garbage carried no id
    history.close();
  });

  it('continues the numbering of a reopened history that did not end', async () => {
    const file = path.join(dir, 'events.sse');
    writeHistory(file, 5, undefined, false);
    const { history } = await BuildHistory.open('b1', file);
    expect(history.isComplete()).toBe(false);
    expect(history.eventCount).toBe(5);
    appendFrames(history, [{ text: frame('y', 9, 6), number: 9 }]);
    expect(history.eventCount).toBe(6);
    expect(await history.offsetAfter(6, 9)).toBe(history.head());
    history.close();
  });

  it('serves a history of many chunks exactly, while it grows and after a restart', async () => {
    const file = path.join(dir, 'events.sse');
    const text = (i: number) => `${i} `.padEnd(3000, 'x'); // ~3 KB frames: 1,500 of them span 4+ chunks
    const frames = writeHistory(file, 1500, text);
    expect(Buffer.byteLength(frames.join(''))).toBeGreaterThan(4 * CHUNK_BYTES);
    const { history } = await BuildHistory.open('b1', file, nodeHistoryFileSystem, new HistoryChunkCache(64 << 20));
    expect(await readAll(history)).toBe(frames.join(''));
    expect(await history.offsetAfter(1000, 1000)).toBe(Buffer.byteLength(frames.slice(0, 1000).join('')));
    history.close();
  });

  it('lets concurrent readers share each chunk: read from disk once', async () => {
    const file = path.join(dir, 'events.sse');
    const frames = writeHistory(file, 1500, (i) => `${i} `.padEnd(3000, 'y'));
    let diskReads = 0;
    const counting: HistoryFileSystem = { ...nodeHistoryFileSystem, read: (...args) => ((diskReads += 1), nodeHistoryFileSystem.read(...args)) };
    const cache = new HistoryChunkCache(64 << 20);
    const { history } = await BuildHistory.open('b1', file, counting, cache);
    const afterOpen = diskReads;
    const replays = await Promise.all(Array.from({ length: 20 }, () => readAll(history)));
    expect(replays.every((replay) => replay === frames.join(''))).toBe(true);
    const chunks = Math.floor(history.head() / CHUNK_BYTES); // the last, partial one is in memory already
    expect(diskReads - afterOpen).toBe(chunks);
    expect(cache.sizeBytes).toBe(chunks * CHUNK_BYTES);
    history.close();
  });

  it('finds every position of a history of many chunks, frames straddling their boundaries, and refuses made-up ids', async () => {
    const file = path.join(dir, 'events.sse');
    // Sizes that do not divide a chunk: frames start and end everywhere around the boundaries.
    const text = (i: number) => `${i} `.padEnd(1000 + ((i * 7919) % 3000), 'v');
    const frames = writeHistory(file, 3000, text);
    const ends: number[] = [];
    let end = 0;
    for (const f of frames) ends.push((end += Buffer.byteLength(f)));
    for (const cache of [new HistoryChunkCache(0), new HistoryChunkCache(64 << 20)]) {
      const { history } = await BuildHistory.open('b1', file, nodeHistoryFileSystem, cache);
      expect(history.eventCount).toBe(3000);
      for (let position = 1; position <= 3000; position += 1) {
        if (position % 7 !== 0 && position > 3 && position < 2997) continue; // every 7th, and both ends
        expect(await history.offsetAfter(position, position)).toBe(ends[position - 1]);
      }
      expect(await history.offsetAfter(1500, 1501)).toBeNull(); // the global number does not match
      expect(await history.offsetAfter(3001, 3001)).toBeNull(); // beyond the newest
      expect(await history.offsetAfter(-3, 1)).toBeNull();
      expect(await history.offsetAfter(1.5, 1)).toBeNull();
      history.close();
    }
  });

  it('finds where a resume starts by reading a few chunks, never the whole history, and indexes at most one entry per chunk', async () => {
    const file = path.join(dir, 'events.sse');
    const frames = writeHistory(file, 1100, (i) => `${i} `.padEnd(30000, 'u')); // 32 chunks
    const chunks = Math.ceil(Buffer.byteLength(frames.join('')) / CHUNK_BYTES);
    let diskReads = 0;
    const counting: HistoryFileSystem = { ...nodeHistoryFileSystem, read: (...args) => ((diskReads += 1), nodeHistoryFileSystem.read(...args)) };
    const { history } = await BuildHistory.open('b1', file, counting, new HistoryChunkCache(0));
    for (const [position, globalNumber] of [[555, 555], [1000, 1000], [77, 78], [556, 1]]) {
      diskReads = 0;
      await history.offsetAfter(position!, globalNumber!);
      // A binary search: about log2(chunks) probes and a chunk or two of scanning, even uncached.
      expect(diskReads).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(chunks)) + 4);
    }
    expect(history.indexSize).toBeLessThanOrEqual(chunks);
    history.close();
  });

  it('keeps appending in memory when the disk refuses a write, and reports the error once', async () => {
    const fullDisk = diskThatFillsAfter(30); // the disk takes 30 bytes, then it is full
    const history = BuildHistory.create('b1', path.join(dir, 'events.sse'), fullDisk);
    const a = frame('x', 1, 1);
    const b = frame('x', 2, 2, 'log', 'z'.repeat(CHUNK_BYTES + 10)); // completes a chunk the disk never got
    const first = appendFrames(history, [{ text: a, number: 1 }]);
    expect(first.error?.message).toMatch(/ENOSPC/);
    const second = appendFrames(history, [{ text: b, number: 2 }]);
    expect(second.error).toBeNull();
    expect(await readAll(history)).toBe(a + b);
    expect(history.failure?.message).toMatch(/ENOSPC/);
    history.close();
  });

  it('closes its file only after the reads in flight are done', async () => {
    const file = path.join(dir, 'events.sse');
    const frames = writeHistory(file, 600, (i) => `${i} `.padEnd(3000, 'w')); // more than a chunk
    let finishRead: () => void = () => {};
    let isSlow = false;
    const slowReads: HistoryFileSystem = {
      ...nodeHistoryFileSystem,
      read: (...args) =>
        isSlow
          ? new Promise((resolve, reject) => {
              finishRead = () => nodeHistoryFileSystem.read(...args).then(resolve, reject);
            })
          : nodeHistoryFileSystem.read(...args),
    };
    const { history } = await BuildHistory.open('b1', file, slowReads);
    isSlow = true;
    const reading = history.read(0, 1000);
    history.close(); // e.g. the last reader hung up while its read was on its way
    finishRead();
    expect((await reading)!.toString()).toBe(frames.join('').slice(0, 1000));
    expect(await history.read(0, 1000)).toBeNull(); // closed now
  });
});
