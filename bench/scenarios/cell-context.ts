import type { LoadGenerator } from '../harness/load-generator.js';
import type { ServerProcess } from '../harness/server-process.js';

/** What a scenario runs against: one server, the load worker, and the shared settings. */
export interface CellContext {
  readonly server: ServerProcess;
  readonly load: LoadGenerator;
  /** Clients connected per batch while ramping up. */
  readonly connectBatch: number;
  /** Clients that parse every event for latency. */
  readonly sampledClients: number;
  /** Characters of each line's text. */
  readonly lineWidth: number;
}

/** Time for a server to take in new connections (their replay of the few events so far) before measuring. */
export const SETTLE_MS = 500;
export const CONNECT_TIMEOUT_MS = 120000;
export const READY_TIMEOUT_MS = 60000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
