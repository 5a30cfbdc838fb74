import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EndEventData, LogEventData } from '../../src/events/event-data.js';
import type { StreamStart } from '../../src/events/event-log.js';
import { LocalEventLog } from '../../src/events/local-event-log.js';
import { silentLogger } from '../../src/logger.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';

/** Everything a stream start would send: its preamble, then its feed from its offset to the head. */
async function readStream(start: StreamStart): Promise<string> {
  const parts = [start.preamble ?? ''];
  for (let at = start.from; at < start.feed.head(); ) {
    const slice = await start.feed.readSlice(at, 1 << 20);
    if (slice === null) return `${parts.join('')}<unreadable>`;
    parts.push(slice.data.toString());
    at = slice.next;
  }
  start.release();
  return parts.join('');
}

describe('LocalEventLog', () => {
  let dir: string;
  let log: LocalEventLog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-log-test-'));
    log = new LocalEventLog({ historyFile: (id) => path.join(dir, `${id}.sse`), encodeFrame, logger: silentLogger(), boot: 'boot1', historyCacheBytes: 0 });
  });
  afterEach(() => {
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A build with `count` log lines and its end, flushed; returns the ids. The log only frames its data, so a bare `text` stands for a whole log line. */
  function runBuild(buildId: string, count: number): string[] {
    log.createBuild(buildId);
    const ids = Array.from({ length: count }, (_, i) => log.append({ buildId, event: 'log', data: { text: `${buildId} ${i + 1}` } as LogEventData }));
    log.flush();
    log.append({ buildId, event: 'end', data: {} as EndEventData });
    log.flush();
    return ids;
  }

  it('resumes the global stream from events of finished builds, across builds, exactly', async () => {
    const a = runBuild('a', 3);
    const b = runBuild('b', 2);
    const replay = await readStream(log.openGlobalStream(a[1]!));
    expect(replay).toBe(
      ['boot1-3-3 a 3', 'boot1-5-1 b 1', 'boot1-6-2 b 2'].map((s) => {
        const [id, build, n] = s.split(' ');
        return `id: ${id}\nevent: log\ndata: ${JSON.stringify({ text: `${build} ${n}` })}\n\n`;
      }).join(''),
    );
    expect(b).toHaveLength(2);
  });

  it('gives a reset to a global reader resuming before the events of a deleted build, and the rest after it', async () => {
    const a = runBuild('a', 3);
    runBuild('b', 2);
    fs.rmSync(path.join(dir, 'a.sse'));
    log.deleteBuild('a');
    const replay = await readStream(log.openGlobalStream(a[0]!));
    expect(replay.startsWith('id: ')).toBe(true);
    expect(replay).toContain('event: reset\n');
    expect(replay).toContain('"text":"b 1"');
    expect(replay).not.toContain('"text":"a ');
  });

  it('gives a reset, not a loop of failures, when a build\'s file went without deleteBuild', async () => {
    const a = runBuild('a', 3);
    runBuild('b', 2);
    fs.rmSync(path.join(dir, 'a.sse'));
    log.close(); // closes every history: the next read must open the file again
    const first = await readStream(log.openGlobalStream(a[0]!));
    expect(first).toContain('<unreadable>');
    const again = await readStream(log.openGlobalStream(a[0]!));
    expect(again).toContain('event: reset\n');
    expect(again).toContain('"text":"b 2"');
  });
});
