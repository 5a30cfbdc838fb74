import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newBuild } from '../../src/builds/build-record.js';
import type { EndEventData } from '../../src/events/event-data.js';
import { nodeHistoryFileSystem, type HistoryFileSystem } from '../../src/events/build-history.js';
import type { NewEvent } from '../../src/events/event-log.js';
import { LocalEventLog } from '../../src/events/local-event-log.js';
import { silentLogger } from '../../src/logger.js';
import { encodeFrame, type Frame } from '../../src/sse/encode-frame.js';
import { CONTRACT_BUILD_ID, describeBuildEventWriter, logEvent, storedLine } from '../helpers/build-event-writer-contract.js';
import { capturingLogger } from '../helpers/log-capture.js';

/** History file operations on the real disk that count writes and opens, and refuse every write once told to. */
function countingDisk() {
  const counts = { writes: 0, opens: 0 };
  let isFull = false;
  const fileSystem: HistoryFileSystem = {
    ...nodeHistoryFileSystem,
    openSync(file, flags) {
      counts.opens += 1;
      return nodeHistoryFileSystem.openSync(file, flags);
    },
    writeSync(fd, buffer, offset, length, position) {
      counts.writes += 1;
      if (isFull) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return nodeHistoryFileSystem.writeSync(fd, buffer, offset, length, position);
    },
  };
  return { fileSystem, counts, fill: () => (isFull = true) };
}

/** The frames of a history file, one `<event> <text or status>` each. */
function readStored(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const fields = new Map(frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      return storedLine(fields.get('event')!, fields.get('data')!);
    });
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-build-writer-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const historyFile = (buildId: string) => path.join(dir, `${buildId}.sse`);

describeBuildEventWriter('LocalBuildWriter', async () => {
  const disk = countingDisk();
  let refusals = 0;
  const log = new LocalEventLog({ historyFile, encodeFrame, logger: silentLogger(), fileSystem: disk.fileSystem, boot: 'boot1', historyCacheBytes: 0 });
  const writer = log.createBuild(CONTRACT_BUILD_ID, () => (refusals += 1));
  return {
    writer,
    refuse: disk.fill,
    stored: () => readStored(historyFile(CONTRACT_BUILD_ID)),
    writes: () => disk.counts.writes,
    refusals: () => refusals,
    close: async () => log.close(),
  };
});

describe('LocalBuildWriter', () => {
  const ID = '0000000000local1';
  const end: NewEvent<'end'> = { buildId: ID, event: 'end', data: { build: { ...newBuild(ID, '/projects/app', new Date(0)), status: 'succeeded' } } };
  const line = (text: string): NewEvent<'log'> => ({ ...logEvent(text), buildId: ID, data: { ...logEvent(text).data, build: ID } });

  function openLog(boot: string, change: { fileSystem?: HistoryFileSystem; encode?: (frame: Frame) => string } = {}) {
    const capture = capturingLogger();
    const log = new LocalEventLog({
      historyFile,
      encodeFrame: change.encode ?? encodeFrame,
      logger: capture.logger,
      boot,
      historyCacheBytes: 0,
      ...(change.fileSystem ? { fileSystem: change.fileSystem } : {}),
    });
    const messages = () => capture.lines().map((entry) => (JSON.parse(entry) as { msg: string }).msg);
    return { log, messages };
  }

  /** A build's history written whole (or without its end) by one log, closed: what a restart finds. */
  async function writeHistory(texts: readonly string[], { isEnded }: { isEnded: boolean }): Promise<void> {
    const { log } = openLog('boot1');
    const writer = log.createBuild(ID, () => {});
    for (const text of texts) void writer.append(line(text));
    if (isEnded) void writer.append(end);
    writer.seal();
    log.close();
  }

  it('frames each event with the encoder it is given, the ids going on within the build', async () => {
    const framed: Frame[] = [];
    const { log } = openLog('boot1', { encode: (frame) => (framed.push(frame), encodeFrame(frame)) });
    const writer = log.createBuild(ID, () => {});
    await Promise.all([writer.append(line('one')), writer.append(line('two'))]);
    expect(framed.map((frame) => [frame.id, frame.event])).toEqual([['boot1-1-1', 'log'], ['boot1-2-2', 'log']]);
    expect(fs.readFileSync(historyFile(ID), 'utf8')).toBe(framed.map(encodeFrame).join(''));
    log.close();
  });

  it('refuses an event of another build', () => {
    const { log } = openLog('boot1');
    const writer = log.createBuild(ID, () => {});
    expect(() => writer.append({ ...line('stray'), buildId: 'someotherbuild' })).toThrow('the writer of build 0000000000local1 was given an event of build someotherbuild');
    log.close();
  });

  it('logs the first write the disk refuses, once, keeps the history whole in memory for its readers, and seals it as not whole', async () => {
    const disk = countingDisk();
    const { log, messages } = openLog('boot1', { fileSystem: disk.fileSystem });
    const writer = log.createBuild(ID, () => {});
    await writer.append(line('on disk'));
    disk.fill();
    expect(await writer.append(line('in memory'))).toBe(false);
    void writer.append(line('in memory too'));
    void writer.append(end);
    expect(writer.seal()).toBe(false);
    expect(messages().filter((msg) => msg === 'cannot write a build history to DATA_DIR')).toHaveLength(1);
    expect(readStored(historyFile(ID))).toEqual(['log on disk']);
    const start = await log.openBuildStream(ID, null);
    if ('isFinished' in start) throw new Error('a stream from the start is never finished');
    const slice = (await start.feed.readSlice(start.from, 1 << 20))!;
    expect(slice.data.toString().split('\n\n').filter(Boolean).map((frame) => frame.split('\n')[1])).toEqual(['event: log', 'event: log', 'event: log', 'event: end']);
    start.release();
    log.close();
  });

  describe('reopenBuild, at start-up', () => {
    it('gives the end of a history that has it, without opening the history', async () => {
      await writeHistory(['one'], { isEnded: true });
      const disk = countingDisk();
      const { log, messages } = openLog('boot2', { fileSystem: disk.fileSystem });
      const reopened = await log.reopenBuild(ID);
      expect(reopened).toEqual({ end: end.data satisfies EndEventData, writer: null });
      expect(disk.counts.opens).toBe(0);
      expect(messages()).toEqual([]);
      log.close();
    });

    it('opens a history cut inside a frame for appending: the torn frame is cut off and logged, ids go on after the last whole one', async () => {
      await writeHistory(['one', 'two', 'three'], { isEnded: false });
      const file = historyFile(ID);
      const bytes = fs.readFileSync(file, 'utf8');
      const torn = bytes.slice(0, bytes.indexOf('"text":"three"'));
      fs.writeFileSync(file, torn);
      const { log, messages } = openLog('boot2');
      const reopened = await log.reopenBuild(ID);
      if (reopened.writer === null) throw new Error('a history without its end is opened for appending');
      expect(messages()).toEqual([`history of build ${ID}: ${Buffer.byteLength(torn) - bytes.indexOf('id: boot1-3-3')} bytes of a torn last frame left out`]);
      void reopened.writer.append(line('after the restart'));
      void reopened.writer.append(end);
      expect(reopened.writer.seal()).toBe(true);
      const frames = fs.readFileSync(file, 'utf8');
      expect(frames.startsWith(bytes.slice(0, bytes.indexOf('id: boot1-3-3')))).toBe(true);
      expect(frames.match(/^id: .*$/gm)).toEqual(['id: boot1-1-1', 'id: boot1-2-2', 'id: boot2-1-3', 'id: boot2-2-4']);
      expect(readStored(file)).toEqual(['log one', 'log two', 'log after the restart', 'end succeeded']);
      log.close();
    });

    it('starts a history whose file was never written from the first position', async () => {
      const { log } = openLog('boot2');
      const reopened = await log.reopenBuild(ID);
      if (reopened.writer === null) throw new Error('a missing history has no end');
      expect(await reopened.writer.append(end)).toBe(true);
      expect(fs.readFileSync(historyFile(ID), 'utf8').split('\n')[0]).toBe('id: boot2-1-1');
      log.close();
    });
  });
});
