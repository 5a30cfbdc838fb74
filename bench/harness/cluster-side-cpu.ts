import type { CellMetrics } from '../scenarios/cell-metrics.js';
import type { BenchRedis } from './bench-redis.js';
import type { ProcessSet } from './process-set.js';

/** What a cluster spent outside its measured API processes over a window. */
export type ClusterFigures = Pick<CellMetrics, 'redisCpuMs' | 'redisCpuUsPerEvent' | 'workerCpuMs'>;

/** A window of ClusterSideCpu, closed with the events delivered in it. */
export interface SideCpuWindow {
  close(delivered: number): Promise<ClusterFigures>;
}

/**
 * The CPU a cluster spends besides its API processes: Redis's (INFO cpu, read over the bench's
 * own connection, so a read costs Redis a few µs) and the workers' (/proc, as for a server).
 * Redis may serve others too (it is the machine's): its figure is an upper bound for the cluster.
 */
export class ClusterSideCpu {
  constructor(
    private readonly redis: BenchRedis,
    private readonly workers: ProcessSet,
  ) {}

  async open(): Promise<SideCpuWindow> {
    const redisBefore = await this.redis.cpuMs();
    const workersBefore = this.workers.cpuMs();
    return {
      close: async (delivered) => {
        const workerCpuMs = this.workers.cpuMs() - workersBefore;
        const redisCpuMs = (await this.redis.cpuMs()) - redisBefore;
        return { redisCpuMs, redisCpuUsPerEvent: delivered > 0 ? (redisCpuMs * 1000) / delivered : null, workerCpuMs };
      },
    };
  }
}
