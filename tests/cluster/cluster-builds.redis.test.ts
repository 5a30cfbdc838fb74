import os from 'node:os';
import { Queue } from 'bullmq';
import { ClusterBuilds, type BuildJob } from '../../src/cluster/cluster-builds.js';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { ClusterStore } from '../../src/cluster/cluster-store.js';
import { QUEUE_NAME } from '../../src/cluster/cluster-worker.js';
import { connectRedis } from '../../src/cluster/redis-client.js';
import { RedisHealth } from '../../src/cluster/redis-health.js';
import { createLogger } from '../../src/logger.js';
import { describeBuildsPort } from '../helpers/builds-port-contract.js';
import { deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../helpers/cluster/shared-redis.js';

describeBuildsPort('ClusterBuilds (Redis, no worker)', async () => {
  const prefix = uniquePrefix('builds-port');
  const redis = connectRedis(SHARED_REDIS_URL, 'builds-port-test');
  const queueConnection = connectRedis(SHARED_REDIS_URL, 'builds-port-queue');
  const store = new ClusterStore(redis, new ClusterKeys(prefix));
  const queue = new Queue<BuildJob>(QUEUE_NAME, { connection: queueConnection, prefix: store.keys.queuePrefix });
  const health = new RedisHealth(redis);
  const run = { buildTimeoutMs: 60000, yarnBin: '/bin/false', inheritedEnv: { path: '/usr/bin:/bin', home: os.homedir(), lang: 'C.UTF-8' }, tmpRoot: os.tmpdir(), workerName: 'api-test' };
  const builds = new ClusterBuilds(store, queue, health, { maxQueuedBuilds: 2, workerLostMs: 30000, run }, createLogger('silent'));
  return {
    builds,
    // No worker has a free slot: the cluster holds MAX_QUEUED_BUILDS queued builds.
    capacity: 2,
    projects: ['/projects/a', '/projects/b', '/projects/c'],
    close: async () => {
      await queue.close();
      await deleteKeys(redis, prefix);
      await Promise.all([redis.quit(), queueConnection.quit()]);
    },
  };
});
