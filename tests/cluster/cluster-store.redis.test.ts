import { newBuild, type BuildRecord } from '../../src/builds/build-record.js';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { ClusterStore, eventBody, type EventBody } from '../../src/cluster/cluster-store.js';
import { connectRedis, type ClusterRedis } from '../../src/cluster/redis-client.js';
import { parseEventId } from '../../src/events/event-id.js';
import { deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../helpers/cluster/shared-redis.js';

let counter = 0;
function record(projectPath: string): BuildRecord {
  counter += 1;
  return { build: newBuild(`000000000test${counter.toString().padStart(3, '0')}`, projectPath, new Date()), idempotencyKey: null };
}

function line(buildId: string, text: string): EventBody {
  return eventBody({ buildId, event: 'log', data: { build: buildId, step: 'build', stream: 'stdout', time: '', ts: 0, text, eol: true } });
}

describe('ClusterStore', () => {
  let redis: ClusterRedis;
  let store: ClusterStore;
  let prefix: string;

  beforeEach(() => {
    prefix = uniquePrefix('store');
    redis = connectRedis(SHARED_REDIS_URL, 'store-test');
    store = new ClusterStore(redis, new ClusterKeys(prefix));
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  async function frames(id: string): Promise<string[]> {
    return redis.lrange(store.keys.frames(id), 0, -1);
  }

  async function admitted(projectPath: string): Promise<BuildRecord> {
    const r = record(projectPath);
    expect(await store.admit(r, 10, eventBody({ buildId: r.build.id, event: 'build', data: { build: r.build } }))).toEqual(['created']);
    return r;
  }

  it('writes a batch once, however often it is sent (a retry after a lost answer)', async () => {
    const r = await admitted('/p/a');
    expect((await store.claim(r.build.id, 'lease-a', 'w1'))[0]).toBe('claimed');
    const write = { expectedLease: 'lease-a', batch: 1, events: [line(r.build.id, 'one'), line(r.build.id, 'two')] };
    expect(await store.commit(r, write)).toBe('ok');
    expect(await store.commit(r, write)).toBe('dup');
    expect(await store.commit(r, { ...write, batch: 2, events: [line(r.build.id, 'three')] })).toBe('ok');
    const texts = (await frames(r.build.id)).slice(1).map((frame) => JSON.parse(frame.split('\n')[2]!.slice(6)).text);
    expect(texts).toEqual(['one', 'two', 'three']);
  });

  it('fences a worker out once its lease is taken from it: none of its writes land after that', async () => {
    const r = await admitted('/p/a');
    await store.claim(r.build.id, 'lease-a', 'w1');
    expect(await store.commit(r, { expectedLease: 'lease-a', batch: 1, events: [line(r.build.id, 'before')] })).toBe('ok');
    // The judge of lost workers ends the build under the worker's lease and takes it.
    expect(await store.commit(r, { expectedLease: 'lease-a', newLease: 'lost', isEnd: true, events: [line(r.build.id, 'interrupted')] })).toBe('ok');
    expect(await store.commit(r, { expectedLease: 'lease-a', batch: 2, events: [line(r.build.id, 'after')] })).toBe('fenced');
    expect(await store.commit(r, { expectedLease: 'someone-else', batch: 3, events: [line(r.build.id, 'after')] })).toBe('fenced');
    expect((await frames(r.build.id)).join('')).not.toContain('"after"');
    // The end freed the project.
    expect((await admitted('/p/a')).build.projectPath).toBe('/p/a');
  });

  it('writes nothing more to a build that ended, even from a writer naming the ended lease (two reapers racing)', async () => {
    const r = await admitted('/p/ended');
    await store.claim(r.build.id, 'lease-e', 'w1');
    expect(await store.commit(r, { expectedLease: 'lease-e', newLease: 'lost', isEnd: true, events: [line(r.build.id, 'first end')] })).toBe('ok');
    // A second API process read the build after that end, so the lease it names is the ended one.
    expect(await store.commit(r, { expectedLease: 'lost', newLease: 'lost', isEnd: true, events: [line(r.build.id, 'second end')] })).toBe('fenced');
    expect(await store.commit(r, { expectedLease: 'done', batch: 9, events: [line(r.build.id, 'late')] })).toBe('fenced');
    const texts = (await frames(r.build.id)).join('');
    expect(texts).toContain('"first end"');
    expect(texts).not.toContain('"second end"');
    expect(texts).not.toContain('"late"');
  });

  it('lets a build be taken once: a second claim (another worker) gets it as taken', async () => {
    const r = await admitted('/p/a');
    expect((await store.claim(r.build.id, 'lease-a', 'w1'))[0]).toBe('claimed');
    expect(await store.claim(r.build.id, 'lease-b', 'w2')).toEqual(['taken', 'lease-a']);
    // The same claim sent again (its answer was lost) is still this worker's.
    expect((await store.claim(r.build.id, 'lease-a', 'w1'))[0]).toBe('claimed');
  });

  it('gives every event one place in the cluster order and one in its build, in the same id', async () => {
    const a = await admitted('/p/a');
    const b = await admitted('/p/b');
    await store.claim(a.build.id, 'la', 'w1');
    await store.claim(b.build.id, 'lb', 'w2');
    for (let i = 0; i < 5; i += 1) {
      await store.commit(a, { expectedLease: 'la', batch: i + 1, events: [line(a.build.id, `a${i}`)] });
      await store.commit(b, { expectedLease: 'lb', batch: i + 1, events: [line(b.build.id, `b${i}`), line(b.build.id, `b${i}'`)] });
    }
    const entries = await redis.xrange(store.keys.events, '-', '+');
    const ids = entries.map(([, fields]) => parseEventId(fields[fields.indexOf('f') + 1]!.split('\n')[0]!.slice(4))!);
    expect(ids.map((id) => id.global)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.map(([entryId]) => entryId)).toEqual(ids.map((id) => `${id.global}-0`));
    for (const build of [a, b]) {
      const numbers = (await frames(build.build.id)).map((frame) => parseEventId(frame.split('\n')[0]!.slice(4))!.build);
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    }
    expect(new Set(ids.map((id) => id.boot)).size).toBe(1);
  });

  it('refuses a build of a busy project, and past the queue limit, in the same step as the admission', async () => {
    const first = await admitted('/p/a');
    const again = record('/p/a');
    const busy = await store.admit(again, 10, eventBody({ buildId: again.build.id, event: 'build', data: { build: again.build } }));
    expect(busy[0]).toBe('busy');
    expect(JSON.parse(busy[1]!).build.id).toBe(first.build.id);
    const other = record('/p/b');
    expect(await store.admit(other, 1, eventBody({ buildId: other.build.id, event: 'build', data: { build: other.build } }))).toEqual(['full']);
    // A worker's free slots count as room.
    await redis.hset(store.keys.freeSlots, 'w1', '1');
    expect(await store.admit(other, 1, eventBody({ buildId: other.build.id, event: 'build', data: { build: other.build } }))).toEqual(['created']);
  });

  it('starts a new epoch when Redis lost its data', async () => {
    const before = await store.epoch();
    expect(await store.epoch()).toBe(before);
    await redis.del(store.keys.epoch);
    // The very process that set the first epoch must not set it again.
    expect(await store.epoch()).not.toBe(before);
  });
});
