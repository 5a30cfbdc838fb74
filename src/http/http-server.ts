import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { clientErrorHandler } from './client-error.js';
import { connectionCap, readOpenFilesLimit } from './connection-cap.js';

/** How long open connections get to take their last bytes at shutdown. */
const SHUTDOWN_DRAIN_MS = 2000;
/** A request whose headers are not complete within this is closed (API.md, Process → Connections). */
const HEADERS_TIMEOUT_MS = 10000;
/** The whole request, its body of at most 16 KiB included; must not be shorter than the headers'. */
const REQUEST_TIMEOUT_MS = 30000;
/** How often Node looks for requests past those timeouts (at its default of 30 s, a 10 s timeout let them live 40 s). */
const CONNECTIONS_CHECK_MS = 1000;

/** The Node HTTP server every role listens with: the contract's timeouts, JSON client errors, a connection cap. */
export async function serveHttp(
  config: Config,
  logger: Logger,
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ server: http.Server; url: string; port: number }> {
  const server = http.createServer(
    {
      // Off: a request without Host gets our JSON 403 forbidden_host, not Node's bare 400.
      requireHostHeader: false,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    },
    handle,
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
  return { server, url: `http://${host}:${port}`, port };
}

/** What a role does between refusing new connections and closing the ones left. */
export interface StopSteps {
  /** Ends the role's own work: builds, streams, logs. */
  readonly beforeDrain: () => Promise<void>;
  /** Releases what the last responses no longer need (a cluster's Redis connections). */
  readonly afterDrain?: () => Promise<void>;
}

/**
 * The graceful stop every role shares, once however often it is called: no new connections,
 * idle ones closed, the role's work ended, then SHUTDOWN_DRAIN_MS for open connections to take
 * their last bytes before what is left is closed.
 */
export function gracefulStop(server: http.Server, steps: StopSteps): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await steps.beforeDrain();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DRAIN_MS).unref())]);
    server.closeAllConnections();
    await steps.afterDrain?.();
  };
  return () => (stopping ??= stop());
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
