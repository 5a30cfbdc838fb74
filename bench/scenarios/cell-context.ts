import type { BenchRedis } from '../harness/bench-redis.js';
import type { LoadGenerator } from '../harness/load-generator.js';
import type { ServerProcess, ServerStartOptions } from '../harness/server-process.js';

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
  /** The compiled stream reader (bench/load/stream-reader.ts), for rows that check whole streams. */
  readonly readerEntry: string;
}

/** What the server starts with, besides what the pool sets (port, MAX_CLIENTS, profiling). */
export type LaunchOptions = Omit<ServerStartOptions, 'maxClients' | 'cpuProfileDir'>;

/** What a scenario that starts its own servers (OURS, on DATA_DIRs of its own) runs with. */
export interface OwnServerContext {
  /** A fresh OURS; the scenario stops it. */
  readonly launch: (options?: LaunchOptions) => Promise<ServerProcess>;
  readonly readerEntry: string;
  readonly lineWidth: number;
}

/** What a scenario of rows h–j runs with: it starts its own processes, and loads them with the load worker. */
export interface ClusterContext extends OwnServerContext {
  readonly load: LoadGenerator;
  /** The bench's own connection to the clusters' Redis (CPU, clean-up); its url is the clusters' REDIS_URL. */
  readonly redis: BenchRedis;
  readonly connectBatch: number;
  readonly sampledClients: number;
}

/** Time for a server to take in new connections (their replay of the few events so far) before measuring. */
export const SETTLE_MS = 500;
export const CONNECT_TIMEOUT_MS = 120000;
export const READY_TIMEOUT_MS = 60000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
