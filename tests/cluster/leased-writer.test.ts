import type { BuildRecord } from '../../src/builds/build-record.js';
import { newBuild } from '../../src/builds/build-record.js';
import type { BuildWrite, ClusterStore } from '../../src/cluster/cluster-store.js';
import { LeasedBuildWriter } from '../../src/cluster/leased-writer.js';
import type { CommitReply } from '../../src/cluster/lua-scripts.js';
import { createLogger } from '../../src/logger.js';
import { CONTRACT_BUILD_ID, describeBuildEventWriter, storedLine } from '../helpers/build-event-writer-contract.js';

/** A store whose commits the test answers: with a reply, or by failing as a dropped connection does. */
class FakeStore {
  readonly writes: BuildWrite[] = [];
  /** Applied batch numbers, as Redis would keep them. */
  readonly applied: number[] = [];
  /** The writes applied, in order. */
  readonly appliedWrites: BuildWrite[] = [];
  answer: (write: BuildWrite) => CommitReply | Error = () => 'ok';

  async commit(_record: unknown, write: BuildWrite): Promise<CommitReply> {
    this.writes.push(write);
    const reply = this.answer(write);
    if (reply instanceof Error) throw reply;
    if (reply === 'ok') {
      this.applied.push(write.batch ?? 0);
      this.appliedWrites.push(write);
    }
    return reply;
  }
}

const logger = createLogger('silent');
const record: BuildRecord = { build: newBuild('0000000000abcdef', '/projects/app', new Date(0)), idempotencyKey: null };

function logEvent(text: string) {
  return { buildId: record.build.id, event: 'log' as const, data: { build: record.build.id, step: null, stream: 'stdout' as const, time: '', ts: 0, text, eol: true } };
}

function texts(writes: readonly BuildWrite[]): string[] {
  return writes.flatMap((write) => write.events.map(([, body]) => (JSON.parse(body.split('\n')[1]!.slice('data: '.length)) as { text: string }).text));
}

describeBuildEventWriter('LeasedBuildWriter', async () => {
  const store = new FakeStore();
  let refusals = 0;
  const writer = new LeasedBuildWriter(store as unknown as ClusterStore, newBuild(CONTRACT_BUILD_ID, '/projects/app', new Date(0)), 'lease-1', () => (refusals += 1), logger);
  return {
    writer,
    refuse: () => {
      store.answer = () => 'fenced';
    },
    stored: () => store.appliedWrites.flatMap((write) => write.events.map(([name, body]) => storedLine(name, body.split('\n')[1]!.slice('data: '.length)))),
    writes: () => store.writes.length,
    refusals: () => refusals,
    close: () => writer.drained(),
  };
});

describe('LeasedBuildWriter', () => {
  it('sends what one tick gave as one batch, under the lease, in order', async () => {
    const store = new FakeStore();
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', () => {}, logger);
    writer.append(logEvent('a'));
    writer.save(record);
    writer.append(logEvent('b'));
    await writer.drained();
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]).toMatchObject({ expectedLease: 'lease-1', batch: 1, isEnd: false, newLease: null });
    expect(store.writes[0]!.record).toEqual(record);
    expect(texts(store.writes)).toEqual(['a', 'b']);
  });

  it('sends a batch whose answer was lost again with the same number, and what came meanwhile after it', async () => {
    const store = new FakeStore();
    let failures = 2;
    store.answer = () => (failures-- > 0 ? new Error('Connection is closed.') : 'ok');
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', () => {}, logger);
    writer.append(logEvent('first'));
    await new Promise((resolve) => setImmediate(resolve));
    writer.append(logEvent('second'));
    await writer.drained();
    expect(store.writes.map((write) => write.batch)).toEqual([1, 1, 1, 2]);
    expect(store.applied).toEqual([1, 2]);
    expect(texts(store.writes.slice(2))).toEqual(['first', 'second']);
  });

  it('resolves an append once the batch that holds it is applied', async () => {
    const store = new FakeStore();
    const gates: Array<() => void> = [];
    const commit = store.commit.bind(store);
    store.commit = async (recordArg, write) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return commit(recordArg, write);
    };
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', () => {}, logger);
    const stored: Record<string, boolean | 'waiting'> = {};
    const append = (text: string) => {
      stored[text] = 'waiting';
      void writer.append(logEvent(text)).then((isStored) => (stored[text] = isStored));
    };
    const nextTick = () => new Promise((resolve) => setImmediate(resolve));
    append('first');
    while (gates.length < 1) await nextTick();
    append('second');
    append('third');
    await nextTick();
    expect(stored).toEqual({ first: 'waiting', second: 'waiting', third: 'waiting' });
    gates[0]!();
    while (gates.length < 2) await nextTick();
    expect(stored).toEqual({ first: true, second: 'waiting', third: 'waiting' });
    gates[1]!();
    await writer.drained();
    expect(stored).toEqual({ first: true, second: true, third: true });
    expect(texts(store.writes)).toEqual(['first', 'second', 'third']);
  });

  it('stops writing, and says so once, when Redis answers that the lease is gone', async () => {
    const store = new FakeStore();
    store.answer = () => 'fenced';
    const fenced: string[] = [];
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', (reason) => fenced.push(reason), logger);
    writer.append(logEvent('a'));
    await writer.drained();
    writer.append(logEvent('b'));
    writer.save(record);
    await writer.drained();
    expect(fenced).toEqual(['fenced']);
    expect(store.writes).toHaveLength(1);
  });

  it('ends the lease with the batch that holds the end', async () => {
    const store = new FakeStore();
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', () => {}, logger);
    writer.append(logEvent('last line'));
    writer.append({ buildId: record.build.id, event: 'end', data: { build: record.build } });
    writer.save(record);
    await writer.drained();
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]).toMatchObject({ isEnd: true, newLease: 'done' });
    expect(store.writes[0]!.events.map(([name]) => name)).toEqual(['log', 'end']);
  });

  it('sends a backlog in bounded batches, the record and the end only with the last (a record never runs ahead of the events)', async () => {
    const store = new FakeStore();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const answer = store.answer;
    store.commit = async function (this: FakeStore, recordArg: unknown, write: BuildWrite): Promise<CommitReply> {
      if (first) {
        first = false;
        await held; // Redis is slow: a backlog piles up behind the first write
      }
      return FakeStore.prototype.commit.call(this, recordArg, write);
    } as FakeStore['commit'];
    store.answer = answer;
    const writer = new LeasedBuildWriter(store as unknown as ClusterStore, record.build, 'lease-1', () => {}, logger);
    writer.append(logEvent('first'));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 2500; i += 1) writer.append(logEvent(`line ${i}`));
    writer.append({ buildId: record.build.id, event: 'end', data: { build: record.build } });
    writer.save(record);
    release();
    await writer.drained();
    const sizes = store.writes.map((write) => write.events.length);
    expect(sizes).toEqual([1, 1000, 1000, 501]);
    expect(store.writes.map((write) => [write.record !== null, write.isEnd])).toEqual([[false, false], [false, false], [false, false], [true, true]]);
    expect(texts(store.writes.slice(1)).slice(0, 2500)).toEqual(Array.from({ length: 2500 }, (_, i) => `line ${i}`));
  });
});
