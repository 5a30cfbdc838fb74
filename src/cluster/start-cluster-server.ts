import { Queue } from 'bullmq';
import { createApp } from '../app.js';
import type { BuildRunSettings } from '../builds/build-run.js';
import type { Config } from '../config.js';
import { gracefulStop, serveHttp } from '../http/http-server.js';
import type { HealthReport } from '../http/misc-routes.js';
import { createStreamEndpoint } from '../http/stream-endpoint.js';
import { createMetrics } from '../metrics.js';
import type { RunningServer, ServerOptions } from '../server.js';
import { ClientPool } from '../sse/client-pool.js';
import { DEFAULT_CONNECTION_LIMITS } from '../sse/sse-connection.js';
import { ClusterBuilds, type BuildJob } from './cluster-builds.js';
import { ClusterEventLog } from './cluster-event-log.js';
import { ClusterKeys } from './cluster-keys.js';
import { ClusterStore } from './cluster-store.js';
import { ClusterWorker, QUEUE_NAME } from './cluster-worker.js';
import { LostWorkerReaper } from './lost-worker-reaper.js';
import { connectRedis, redactRedisUrl, waitForRedis, STARTUP_WAIT_MS, type ClusterRedis } from './redis-client.js';
import { RedisHealth } from './redis-health.js';
import { createWorkerApp } from './worker-app.js';

/** How often API processes look for queued builds without a job, and how old such a build must be. */
const ORPHAN_CHECK_MS = 5000;
const ORPHAN_MIN_AGE_MS = 10000;

/** Redis could not be reached at start-up: the process stops with this one line. */
export class RedisStartupError extends Error {
  override name = 'RedisStartupError';
}

/**
 * One process of a cluster, by ROLE: `api` serves the HTTP API from Redis, `worker` runs
 * builds from the cluster's queue (and serves /healthz and /metrics), `all` does both.
 */
export async function startClusterServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const url = config.redisUrl!;
  const connections: ClusterRedis[] = [];
  const connect = (purpose: string) => {
    const redis = connectRedis(url, `buildlog:${config.workerName}:${purpose}`);
    connections.push(redis);
    return redis;
  };
  const main = connect('main');
  try {
    // The contract's 10 s count from the start of the process, not from here.
    await waitForRedis(main, Math.max(1000, STARTUP_WAIT_MS - Math.round(process.uptime() * 1000)));
  } catch (error) {
    for (const redis of connections) redis.disconnect();
    throw new RedisStartupError(`cannot reach Redis at REDIS_URL ${redactRedisUrl(url)} within ${STARTUP_WAIT_MS / 1000} s (${(error as Error).message})`);
  }
  const store = new ClusterStore(main, new ClusterKeys(config.redisPrefix));
  const health = new RedisHealth(connect('health'));
  health.start();
  const checkHealth = (): HealthReport =>
    health.isAvailable ? { status: 'ok' } : { status: 'unavailable', reason: `Redis (REDIS_URL) has not answered for ${Math.round((Date.now() - health.lastAnswer) / 1000)} s` };

  const runSettings: BuildRunSettings = {
    buildTimeoutMs: config.buildTimeoutMs,
    yarnBin: config.yarnBin,
    inheritedEnv: config.inheritedEnv,
    tmpRoot: config.tmpRoot,
    workerName: config.workerName,
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
  };
  let worker: ClusterWorker | null = null;
  if (config.role !== 'api') {
    worker = new ClusterWorker(store, connect('queue'), connect('cancel'), { ...runSettings, maxConcurrentBuilds: config.maxConcurrentBuilds, workerLostMs: config.workerLostMs, keepBuilds: config.keepBuilds, keepDays: config.keepDays }, logger);
    await worker.start();
  }

  const pool = new ClientPool(config.maxClients, config.heartbeatMs, config.maxClientsPerAddress);
  let eventLog: ClusterEventLog | null = null;
  let queue: Queue<BuildJob> | null = null;
  let reaper: LostWorkerReaper | null = null;
  let orphanTimer: NodeJS.Timeout | null = null;
  let handle: Parameters<typeof serveHttp>[2];
  if (config.role === 'worker') {
    const metrics = createMetrics({ pool, countBuilds: () => new Map(), eventsAppended: () => 0 });
    handle = createWorkerApp(config, metrics, checkHealth, logger).callback();
  } else {
    eventLog = new ClusterEventLog(connect('events'), store, health, logger);
    await eventLog.start();
    eventLog.onAppend((appends) => pool.deliver(appends));
    eventLog.onReset(() => pool.endAll('shutdown'));
    queue = new Queue<BuildJob>(QUEUE_NAME, { connection: connect('enqueue'), prefix: store.keys.queuePrefix });
    const service = new ClusterBuilds(store, queue, health, { maxQueuedBuilds: config.maxQueuedBuilds, workerLostMs: config.workerLostMs, run: runSettings }, logger);
    reaper = new LostWorkerReaper(store, health, config.workerLostMs, logger);
    reaper.start();
    orphanTimer = setInterval(() => void service.requeueOrphans(ORPHAN_MIN_AGE_MS).catch(() => {}), ORPHAN_CHECK_MS);
    orphanTimer.unref();
    const events = eventLog;
    const metrics = createMetrics({ pool, countBuilds: () => service.countByStatus(), eventsAppended: () => events.eventsAppended });
    const app = createApp({ config, service, eventLog, metrics, logger, checkHealth });
    const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
    const handleStream = createStreamEndpoint({ service, eventLog, pool, config, limits, logger });
    const handleWithKoa = app.callback();
    handle = (req, res) => {
      if (!handleStream(req, res)) void handleWithKoa(req, res);
    };
  }
  const { server, url: listenUrl, port } = await serveHttp(config, logger, handle);
  logger.info({ role: config.role, worker: config.workerName, redis: redactRedisUrl(url), prefix: config.redisPrefix }, `joined the cluster as ${config.role}`);

  return {
    url: listenUrl,
    port,
    httpServer: server,
    shutdown: gracefulStop(server, {
      beforeDrain: async () => {
        await worker?.shutdown();
        reaper?.stop();
        if (orphanTimer) clearInterval(orphanTimer);
        pool.endAll('shutdown');
        eventLog?.close();
        await queue?.close().catch(() => {});
        health.stop();
      },
      afterDrain: async () => {
        await Promise.all(connections.map((redis) => redis.quit().catch(() => redis.disconnect())));
      },
    }),
  };
}
