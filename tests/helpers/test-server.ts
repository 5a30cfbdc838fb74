import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export interface TestServer extends RunningServer {
  readonly config: Config;
  readonly dataDir: string;
  /** Shuts down (idempotent). */
  stop(): Promise<void>;
}

/**
 * The real server on a free port of 127.0.0.1, configured through the same environment
 * variables as in production, with a fresh DATA_DIR unless one is given.
 */
export async function startTestServer(env: Record<string, string>, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-data-'));
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG,
    TMPDIR: process.env.TMPDIR,
    PORT: '0',
    ...env,
    DATA_DIR: dataDir,
  });
  const server = await startServer(config, { logger: silentLogger(), ...options });
  return { ...server, config, dataDir, stop: () => server.shutdown() };
}
