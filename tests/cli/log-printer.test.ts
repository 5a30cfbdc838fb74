import { Writable } from 'node:stream';
import { LogPrinter, type LogPrinterOptions } from '../../src/cli/log-printer.js';
import type { LogLine, StreamEvent } from '../../src/cli/stream-event.js';

/** A writable that keeps what it got, as one string. */
class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

const TIME = '2026-01-02 03:04:05.678';

function log(stream: LogLine['stream'], text: string, eol = true): StreamEvent {
  return { name: 'log', id: `b-1-${text.length}`, data: { build: 'b', step: 'build', stream, time: TIME, ts: 0, text, eol } };
}

async function print(events: StreamEvent[], options: Partial<LogPrinterOptions> = {}): Promise<{ stdout: string; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const printer = new LogPrinter(stdout, stderr, { timestamps: false, json: false, dimSystem: false, ...options });
  for (const event of events) await printer.print(event);
  return { stdout: stdout.text, stderr: stderr.text };
}

describe('LogPrinter', () => {
  it('prints stdout lines to stdout and stderr and system lines to stderr', async () => {
    const { stdout, stderr } = await print([log('system', '$ yarn build'), log('stdout', 'out'), log('stderr', 'err')]);
    expect(stdout).toBe('out\n');
    expect(stderr).toBe('$ yarn build\nerr\n');
  });

  it('adds a newline only when eol says one ended the line, so partial lines join up exactly', async () => {
    const { stdout } = await print([log('stdout', 'progress 10%\rprogress', false), log('stdout', ' 100%'), log('stdout', 'tail', false)]);
    expect(stdout).toBe('progress 10%\rprogress 100%\ntail');
  });

  it('prefixes [time] at the start of each printed line only, not to the rest of a partial line', async () => {
    const { stdout, stderr } = await print([log('stdout', 'a', false), log('stdout', 'b'), log('stdout', 'c'), log('stderr', 'e')], { timestamps: true });
    expect(stdout).toBe(`[${TIME}] ab\n[${TIME}] c\n`);
    expect(stderr).toBe(`[${TIME}] e\n`);
  });

  it('starts a system line on a line of its own after a partial stderr line', async () => {
    const { stderr } = await print([log('stderr', 'half', false), log('system', 'Build failed')]);
    expect(stderr).toBe('half\nBuild failed\n');
  });

  it('dims system lines when asked, and only them', async () => {
    const { stdout, stderr } = await print([log('system', '$ yarn install'), log('stdout', 'plain'), log('stderr', 'warn')], { dimSystem: true });
    expect(stderr).toBe('\x1b[2m$ yarn install\x1b[22m\nwarn\n');
    expect(stdout).toBe('plain\n');
  });

  it('prints nothing for build and end events as text', async () => {
    const build = { id: 'b', status: 'succeeded', steps: [] } as never;
    const { stdout, stderr } = await print([{ name: 'build', id: '1', data: { build } }, { name: 'end', id: '2', data: { build } }]);
    expect(stdout + stderr).toBe('');
  });

  it('prints every event as one JSON line on stdout with --json', async () => {
    const build = { id: 'b', status: 'succeeded', steps: [] } as never;
    const events: StreamEvent[] = [log('stderr', 'err'), log('stdout', 'a\nb?', false), { name: 'end', id: '9', data: { build } }];
    const { stdout, stderr } = await print(events, { json: true, timestamps: true });
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { id: 'b-1-3', event: 'log', data: (events[0] as { data: LogLine }).data },
      { id: 'b-1-4', event: 'log', data: (events[1] as { data: LogLine }).data },
      { id: '9', event: 'end', data: { build } },
    ]);
  });

  it('puts its own notices on a line of their own on stderr, after a partial line and after a whole one', async () => {
    const stdout = new Collector();
    const stderr = new Collector();
    const printer = new LogPrinter(stdout, stderr, { timestamps: false, json: false, dimSystem: false });
    await printer.print(log('stderr', 'half', false));
    printer.notice('lost the connection');
    await printer.print(log('stderr', 'whole'));
    printer.notice('resuming');
    expect(stderr.text).toBe('half\nbuildlog: lost the connection\nwhole\nbuildlog: resuming\n');
    expect(stdout.text).toBe('');
  });

  it('starts the next stderr line afresh after a notice, with its [time], and leaves a partial stdout line alone', async () => {
    const stdout = new Collector();
    const stderr = new Collector();
    const printer = new LogPrinter(stdout, stderr, { timestamps: true, json: false, dimSystem: false });
    await printer.print(log('stdout', 'progress', false));
    await printer.print(log('stderr', 'half', false));
    printer.notice('lost the connection');
    await printer.print(log('stderr', 'after'));
    await printer.print(log('stdout', ' 100%'));
    expect(stderr.text).toBe(`[${TIME}] half\nbuildlog: lost the connection\n[${TIME}] after\n`);
    expect(stdout.text).toBe(`[${TIME}] progress 100%\n`);
  });
});
