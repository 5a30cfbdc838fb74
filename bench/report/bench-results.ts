import type { ServerKind } from '../harness/server-kinds.js';
import type { CellMetrics, RowResult } from '../scenarios/cell-metrics.js';
import type { TargetResult } from './targets.js';

/** Where and how the bench ran. */
export interface BenchMeta {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly loadAverageAtStart: readonly number[];
  readonly scale: number;
  readonly runs: number;
  readonly scenarios: readonly string[];
  readonly lineWidth: number;
  readonly connectBatch: number;
  readonly sampledClients: number;
  readonly reuseServers: boolean;
  /** The clusters' Redis (rows h–j); null when none of them ran. */
  readonly redisUrl: string | null;
  readonly stream: string;
}

/** Every run of one row on one server, and their median. */
export interface CellResult {
  readonly row: string;
  readonly server: ServerKind;
  /** `itself`: a row of e–g, where OURS is compared with its own other rows; `cluster`: h–j, OURS on Redis and as one process. */
  readonly versus: 'servers' | 'itself' | 'cluster';
  readonly runs: readonly RowResult[];
  readonly median: CellMetrics | null;
  readonly errors: readonly string[];
}

/** What bench/results/*.json holds. */
export interface BenchResults {
  readonly meta: BenchMeta;
  readonly cells: readonly CellResult[];
  readonly targets: readonly TargetResult[];
  /** Every process the bench started (servers, load workers, stream readers), to check none is left. */
  readonly pids: readonly number[];
}
