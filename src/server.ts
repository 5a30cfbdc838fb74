import fs from 'node:fs';
import type http from 'node:http';
import { createApp } from './app.js';
import { startClusterServer } from './cluster/start-cluster-server.js';
import { gracefulStop, serveHttp } from './http/http-server.js';
import { createStreamEndpoint } from './http/stream-endpoint.js';
import { BuildService } from './builds/build-service.js';
import { BuildStore, type RecordFileSystem } from './builds/build-store.js';
import type { Config } from './config.js';
import type { HistoryFileSystem } from './events/build-history.js';
import { LocalEventLog } from './events/local-event-log.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { encodeFrame } from './sse/encode-frame.js';
import { ClientPool } from './sse/client-pool.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './sse/sse-connection.js';

/** Knobs that only tests and benchmarks turn; the defaults are the contract's. */
export interface ServerOptions {
  readonly logger: Logger;
  readonly connectionLimits?: Partial<ConnectionLimits>;
  readonly globalHistoryEvents?: number;
  readonly historyCacheBytes?: number;
  readonly historyFileSystem?: HistoryFileSystem;
  readonly recordFileSystem?: RecordFileSystem;
  readonly killGraceMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The Node server underneath, for operations and tests. */
  readonly httpServer: http.Server;
  /**
   * Graceful stop: no new connections or builds, running builds killed and recorded as
   * interrupted, every stream sent its final events and closed, every log flushed.
   */
  shutdown(): Promise<void>;
}

/**
 * Wires the parts together, recovers stored builds, and listens; with REDIS_URL, joins that
 * cluster instead (cluster/start-cluster-server.ts).
 */
export async function startServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  if (config.redisUrl !== null) return startClusterServer(config, options);
  const { logger } = options;
  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
  } catch (error) {
    logger.error({ err: error, dataDir: config.dataDir }, 'DATA_DIR cannot be created; builds will fail until it can');
  }
  const store = new BuildStore(config.dataDir, options.recordFileSystem);
  const eventLog = new LocalEventLog({
    historyFile: (id) => store.historyFile(id),
    encodeFrame,
    logger,
    ...(options.globalHistoryEvents !== undefined ? { globalHistoryEvents: options.globalHistoryEvents } : {}),
    ...(options.historyCacheBytes !== undefined ? { historyCacheBytes: options.historyCacheBytes } : {}),
    ...(options.historyFileSystem ? { fileSystem: options.historyFileSystem } : {}),
  });
  const pool = new ClientPool(config.maxClients, config.heartbeatMs, config.maxClientsPerAddress);
  eventLog.onAppend((appends) => pool.deliver(appends));
  const service = new BuildService(
    store,
    eventLog,
    {
      maxConcurrentBuilds: config.maxConcurrentBuilds,
      maxQueuedBuilds: config.maxQueuedBuilds,
      buildTimeoutMs: config.buildTimeoutMs,
      yarnBin: config.yarnBin,
      inheritedEnv: config.inheritedEnv,
      tmpRoot: config.tmpRoot,
      keepBuilds: config.keepBuilds,
      keepDays: config.keepDays,
      workerName: config.workerName,
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    },
    logger,
  );
  await service.recover();
  eventLog.flush();

  const metrics = createMetrics({
    pool,
    countBuilds: () => service.countByStatus(),
    eventsAppended: () => eventLog.eventsAppended,
  });
  service.onFinished((build) => metrics.observeFinished(build));
  const connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  const app = createApp({ config, service, eventLog, metrics, logger });
  const handleStream = createStreamEndpoint({ service, eventLog, pool, config, limits: connectionLimits, logger });
  const handleWithKoa = app.callback();

  const { server, url, port } = await serveHttp(config, logger, (req, res) => {
    if (!handleStream(req, res)) void handleWithKoa(req, res);
  });

  return {
    url,
    port,
    httpServer: server,
    shutdown: gracefulStop(server, {
      beforeDrain: async () => {
        await service.shutdown();
        pool.endAll('shutdown');
        eventLog.close();
      },
    }),
  };
}
