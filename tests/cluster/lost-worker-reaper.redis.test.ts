import { newBuild, type BuildRecord } from '../../src/builds/build-record.js';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { ClusterStore, eventBody } from '../../src/cluster/cluster-store.js';
import { LostWorkerReaper } from '../../src/cluster/lost-worker-reaper.js';
import { connectRedis, type ClusterRedis } from '../../src/cluster/redis-client.js';
import type { RedisHealth } from '../../src/cluster/redis-health.js';
import { readWorkers, writeBeat, type WorkerBeat } from '../../src/cluster/worker-registry.js';
import { createLogger } from '../../src/logger.js';
import { deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../helpers/cluster/shared-redis.js';

const LOST_MS = 3000;

describe('LostWorkerReaper', () => {
  let redis: ClusterRedis;
  let store: ClusterStore;
  let prefix: string;
  let nowMs: number;
  let isRedisAnswering: boolean;
  let reaper: LostWorkerReaper;

  beforeEach(() => {
    prefix = uniquePrefix('reaper');
    redis = connectRedis(SHARED_REDIS_URL, 'reaper-test');
    store = new ClusterStore(redis, new ClusterKeys(prefix));
    nowMs = 1_000_000;
    isRedisAnswering = true;
    const health = { get isAvailable() { return isRedisAnswering; } } as unknown as RedisHealth;
    reaper = new LostWorkerReaper(store, health, LOST_MS, createLogger('silent'), () => nowMs);
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  function beat(name: string, count: number, builds: string[] = []): WorkerBeat {
    return { name, status: builds.length > 0 ? 'busy' : 'idle', builds, maxConcurrentBuilds: 1, startedAt: new Date(0).toISOString(), lastSeenAt: new Date(nowMs).toISOString(), beat: count };
  }

  /** Checks every 500 ms of the fake clock for `ms`. */
  async function watchFor(ms: number, onEachCheck: () => Promise<void> = async () => {}): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += 500) {
      nowMs += 500;
      await onEachCheck();
      await reaper.check();
    }
  }

  async function runningBuildOf(worker: string): Promise<BuildRecord> {
    const record: BuildRecord = { build: newBuild('000000000reap001', '/p/a', new Date(0)), idempotencyKey: null };
    await store.admit(record, 10, eventBody({ buildId: record.build.id, event: 'build', data: { build: record.build } }));
    await store.claim(record.build.id, `${worker}/lease`, worker);
    record.build.status = 'running';
    record.build.worker = worker;
    await store.commit(record, { expectedLease: `${worker}/lease`, batch: 1, record, events: [] });
    return record;
  }

  it('never declares lost a worker whose beat goes on', async () => {
    let count = 0;
    await watchFor(LOST_MS * 3, async () => writeBeat(store, beat('w1', (count += 1)), 1));
    expect((await readWorkers(store, LOST_MS, nowMs))[0]).toMatchObject({ name: 'w1', status: 'idle' });
  });

  it('declares a silent worker lost after WORKER_LOST_MS and ends its build interrupted, naming it', async () => {
    const record = await runningBuildOf('w1');
    await writeBeat(store, beat('w1', 1, [record.build.id]), 0);
    await watchFor(LOST_MS - 500);
    expect((await store.get(record.build.id))!.record.build.status).toBe('running');
    await watchFor(1500);
    const stored = (await store.get(record.build.id))!;
    expect(stored).toMatchObject({ lease: 'lost', record: { build: { status: 'interrupted' } } });
    const frames = await redis.lrange(store.keys.frames(record.build.id), 0, -1);
    expect(frames.at(-1)).toContain('event: end');
    expect(frames.join('')).toContain('its worker w1 was lost');
    expect((await readWorkers(store, LOST_MS, nowMs))[0]).toMatchObject({ name: 'w1', status: 'lost' });
    expect(await redis.get(store.keys.project('/p/a'))).toBeNull();
  });

  it('counts no time while Redis does not answer, nor across a gap in its own checks', async () => {
    const record = await runningBuildOf('w1');
    await writeBeat(store, beat('w1', 1, [record.build.id]), 0);
    await watchFor(LOST_MS - 1000);
    isRedisAnswering = false;
    await watchFor(LOST_MS * 4);
    isRedisAnswering = true;
    nowMs += LOST_MS * 4; // this process itself stalled: the gap counts for nothing
    await reaper.check();
    await watchFor(500);
    expect((await store.get(record.build.id))!.record.build.status).toBe('running');
  });
});
