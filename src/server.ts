import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { clientErrorHandler } from './http/client-error.js';
import { connectionCap, readOpenFilesLimit } from './http/connection-cap.js';
import { createStreamEndpoint } from './http/stream-endpoint.js';
import { BuildService } from './builds/build-service.js';
import { BuildStore, type RecordFileSystem } from './builds/build-store.js';
import type { Config } from './config.js';
import type { HistoryFileSystem } from './events/build-history.js';
import { LocalEventLog } from './events/local-event-log.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
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

/** How long open connections get to take their last bytes at shutdown. */
const SHUTDOWN_DRAIN_MS = 2000;
/** A request whose headers are not complete within this is closed (API.md, Process → Connections). */
const HEADERS_TIMEOUT_MS = 10000;
/** The whole request, its body of at most 16 KiB included; must not be shorter than the headers'. */
const REQUEST_TIMEOUT_MS = 30000;
/** How often Node looks for requests past those timeouts (at its default of 30 s, a 10 s timeout let them live 40 s). */
const CONNECTIONS_CHECK_MS = 1000;

/** Wires the parts together, recovers stored builds, and listens. */
export async function startServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
  } catch (error) {
    logger.error({ err: error, dataDir: config.dataDir }, 'DATA_DIR cannot be created; builds will fail until it can');
  }
  const store = new BuildStore(config.dataDir, options.recordFileSystem);
  const eventLog = new LocalEventLog({
    historyFile: (id) => store.historyFile(id),
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

  const server = http.createServer(
    {
      // Off: a request without Host gets our JSON 403 forbidden_host, not Node's bare 400.
      requireHostHeader: false,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    },
    (req, res) => {
      if (!handleStream(req, res)) void handleWithKoa(req, res);
    },
  );
  server.on('clientError', clientErrorHandler(logger));
  limitConnections(server, config, logger);
  // Streams live for hours: no socket timeout may cut them (requestTimeout only bounds
  // receiving a request, which stays useful against slow senders).
  server.timeout = 0;
  await listen(server, config.port, config.host);
  // An accept that fails (EMFILE, ENFILE) is the kernel's refusal of one connection, not the server's end.
  server.on('error', (error) => logger.warn({ err: error }, 'accepting a connection failed'));
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    httpServer: server,
    shutdown: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await service.shutdown();
        pool.endAll('shutdown');
        eventLog.close();
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DRAIN_MS).unref())]);
        server.closeAllConnections();
      })();
      return stopping;
    },
  };
}

/**
 * Caps the connections at what the limit of open files leaves after a reserve for builds and
 * files (connection-cap.ts); past it Node closes each new connection as soon as it is accepted.
 */
function limitConnections(server: http.Server, config: Config, logger: Logger): void {
  const openFilesLimit = readOpenFilesLimit();
  const cap = connectionCap(openFilesLimit, config.maxConcurrentBuilds);
  if (cap === null) return;
  server.maxConnections = cap;
  logger.info({ maxConnections: cap, openFilesLimit }, `at most ${cap} connections at once (open files limit ${openFilesLimit})`);
  if (cap < config.maxClients) {
    logger.warn({ maxConnections: cap, maxClients: config.maxClients }, `MAX_CLIENTS is ${config.maxClients} but the open files limit allows ${cap} connections; raise ulimit -n`);
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
