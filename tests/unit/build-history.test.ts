import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildHistory, nodeHistoryFileSystem, type HistoryFileSystem } from '../../src/events/build-history.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';

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
    expect(history.offsetAfter(1, 10)).toBe(Buffer.byteLength(a));
    expect(history.offsetAfter(2, 11)).toBe(history.head());
    expect((await history.read(Buffer.byteLength(a), 1000))!.toString()).toBe(b);
    history.close();
  });

  it('rejects an id whose global number does not match the event at that position', () => {
    const history = BuildHistory.create('b1', path.join(dir, 'events.sse'));
    appendFrames(history, [{ text: frame('x', 10, 1), number: 10 }]);
    expect(history.offsetAfter(1, 99)).toBeNull();
    expect(history.offsetAfter(2, 11)).toBeNull();
    expect(history.offsetAfter(0, 0)).toBe(0);
    history.close();
  });

  it('reopens a finished history with its index and knows it is complete', async () => {
    const file = path.join(dir, 'events.sse');
    const first = BuildHistory.create('b1', file);
    appendFrames(first, [{ text: frame('x', 1, 1), number: 1 }]);
    appendFrames(first, [{ text: frame('x', 2, 2, 'end'), number: 2 }], true);
    first.close();

    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toBeNull();
    expect(history.eventCount).toBe(2);
    expect(history.isComplete()).toBe(true);
    expect(history.offsetAfter(1, 1)).toBe(Buffer.byteLength(frame('x', 1, 1)));
    history.close();
  });

  it('leaves out a torn last frame and cuts it off before appending', async () => {
    const file = path.join(dir, 'events.sse');
    const whole = frame('x', 1, 1);
    fs.writeFileSync(file, whole + 'id: x-2-2\nevent: lo');
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toMatch(/torn/);
    expect(history.head()).toBe(Buffer.byteLength(whole));
    const next = frame('y', 5, 2);
    appendFrames(history, [{ text: next, number: 5 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe(whole + next);
    history.close();
  });

  it('stops at a malformed frame and reports where', async () => {
    const file = path.join(dir, 'events.sse');
    fs.writeFileSync(file, frame('x', 1, 1) + 'garbage\n\n' + frame('x', 3, 3));
    const { history, problem } = await BuildHistory.open('b1', file);
    expect(problem).toMatch(/malformed frame at byte/);
    expect(history.eventCount).toBe(1);
    history.close();
  });

  it('keeps appending in memory when the disk refuses a write, and reports the error once', async () => {
    let budget = 30; // bytes the "disk" takes before it is full
    const fullDisk: HistoryFileSystem = {
      ...nodeHistoryFileSystem,
      writeSync(fd, buffer, offset, length, position) {
        if (budget <= 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        const take = Math.min(budget, length);
        budget -= take;
        return nodeHistoryFileSystem.writeSync(fd, buffer, offset, take, position);
      },
    };
    const history = BuildHistory.create('b1', path.join(dir, 'events.sse'), fullDisk);
    const a = frame('x', 1, 1);
    const b = frame('x', 2, 2);
    const first = appendFrames(history, [{ text: a, number: 1 }]);
    expect(first.error?.message).toMatch(/ENOSPC/);
    const second = appendFrames(history, [{ text: b, number: 2 }]);
    expect(second.error).toBeNull();
    // A reader still gets everything, from disk then from memory.
    const all = await history.read(0, 10000);
    const rest = await history.read(all!.length, 10000);
    expect(Buffer.concat([all!, rest!]).toString()).toBe(a + b);
    expect(history.failure?.message).toMatch(/ENOSPC/);
    history.close();
  });

  it('closes its file only after the reads in flight are done', async () => {
    let finishRead: () => void = () => {};
    const slowReads: HistoryFileSystem = {
      ...nodeHistoryFileSystem,
      read: (...args) => new Promise((resolve, reject) => {
        finishRead = () => nodeHistoryFileSystem.read(...args).then(resolve, reject);
      }),
    };
    const history = BuildHistory.create('b1', path.join(dir, 'events.sse'), slowReads);
    const a = frame('x', 1, 1);
    appendFrames(history, [{ text: a, number: 1 }], true);
    const reading = history.read(0, 1000);
    history.close(); // e.g. the last reader hung up while its read was on its way
    finishRead();
    expect((await reading)!.toString()).toBe(a);
    expect(await history.read(0, 1000)).toBeNull(); // closed now
  });
});
