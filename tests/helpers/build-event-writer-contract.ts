import { newBuild } from '../../src/builds/build-record.js';
import type { BuildEventWriter } from '../../src/events/build-event-writer.js';
import type { NewEvent } from '../../src/events/event-log.js';

/** A BuildEventWriter under test, with its storage faked at the edge (the disk, Redis). */
export interface WriterUnderTest {
  readonly writer: BuildEventWriter;
  /** From now on the storage refuses every write (a full disk; a lease that is gone). */
  refuse(): void;
  /** What the storage holds for the build now, one `<event> <text or status>` per event, in order. */
  stored(): string[];
  /** Writes the storage was asked for so far (one per flush, or per batch). */
  writes(): number;
  /** How often the writer's owner was told that the storage refused it. */
  refusals(): number;
  close(): Promise<void>;
}

/** The build every writer under the contract is made for. */
export const CONTRACT_BUILD_ID = '0000000000contr1';

const build = newBuild(CONTRACT_BUILD_ID, '/projects/app', new Date(0));

/** A stdout line of that build. */
export function logEvent(text: string): NewEvent<'log'> {
  return { buildId: CONTRACT_BUILD_ID, event: 'log', data: { build: CONTRACT_BUILD_ID, step: null, stream: 'stdout', time: '', ts: 0, text, eol: true } };
}

function endEvent(): NewEvent<'end'> {
  return { buildId: CONTRACT_BUILD_ID, event: 'end', data: { build: { ...build, status: 'succeeded' } } };
}

/** One line of WriterUnderTest.stored() from an event's name and its data's JSON. */
export function storedLine(event: string, data: string): string {
  const parsed = JSON.parse(data) as { text?: string; build?: { status: string } };
  return `${event} ${parsed.text ?? parsed.build?.status}`;
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * What every BuildEventWriter keeps, wherever it stores: this process's history file
 * (LocalBuildWriter) and a cluster's Redis under a lease (LeasedBuildWriter) run this suite.
 */
export function describeBuildEventWriter(label: string, open: () => Promise<WriterUnderTest>): void {
  describe(`${label} keeps the BuildEventWriter contract`, () => {
    let subject: WriterUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('stores the events in order, and resolves each append once it is stored', async () => {
      const appended = [subject.writer.append(logEvent('one')), subject.writer.append(logEvent('two'))];
      expect(subject.stored()).toEqual([]);
      expect(await Promise.all(appended)).toEqual([true, true]);
      expect(subject.stored()).toEqual(['log one', 'log two']);
    });

    it('writes the appends of one tick together, and those of a later tick after them', async () => {
      const first = [subject.writer.append(logEvent('a')), subject.writer.append(logEvent('b')), subject.writer.append(logEvent('c'))];
      await Promise.all(first);
      expect(subject.writes()).toBe(1);
      await nextTick();
      await subject.writer.append(logEvent('d'));
      expect(subject.writes()).toBe(2);
      expect(subject.stored()).toEqual(['log a', 'log b', 'log c', 'log d']);
    });

    it('resolves as not stored what the storage refuses, and every append after it, telling its owner once', async () => {
      expect(await subject.writer.append(logEvent('kept'))).toBe(true);
      subject.refuse();
      expect(await Promise.all([subject.writer.append(logEvent('refused')), subject.writer.append(logEvent('also refused'))])).toEqual([false, false]);
      expect(await subject.writer.append(logEvent('after'))).toBe(false);
      expect(subject.refusals()).toBe(1);
      expect(subject.stored()).toEqual(['log kept']);
    });

    it('seals a history stored whole after its end, which is then stored last', async () => {
      void subject.writer.append(logEvent('last line'));
      const end = subject.writer.append(endEvent());
      expect(subject.writer.seal()).toBe(true);
      expect(await end).toBe(true);
      expect(subject.stored()).toEqual(['log last line', 'end succeeded']);
    });
  });
}
