import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

/** Shutdown must be over within the contract's 10 s; past this, exit anyway. */
const SHUTDOWN_DEADLINE_MS = 9500;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`build-log-server: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? `port ${config.port} is in use (PORT)` : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? `cannot listen on HOST ${config.host}` : (error as Error).message;
    process.stderr.write(`build-log-server: cannot start: ${reason}\n`);
    process.exit(1);
  }
  logger.info({ url: server.url, projectsRoots: config.projectsRoots, dataDir: config.dataDir }, `listening on ${server.url}`);

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.shutdown().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
