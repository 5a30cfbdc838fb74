import type { LaunchOptions } from '../scenarios/cell-context.js';
import { BenchFixture } from './bench-fixture.js';
import type { BenchRedis } from './bench-redis.js';
import type { ServerProcess } from './server-process.js';

export type ClusterRole = 'api' | 'worker';

/** Clusters started in this bench run, for prefixes that never repeat within it. */
let clustersStarted = 0;
const RUN_STAMP = new Date().toISOString().replace(/[:.]/g, '-');

/**
 * One cluster of OURS on Redis for rows h–j: `node dist/main.js` processes started with the
 * same REDIS_URL and a REDIS_PREFIX of their own (`bench-<run>-<n>:`, so that nothing another
 * run or test left in Redis is seen), each with a ROLE and a WORKER_NAME. They share one
 * fixture folder: a cluster's processes must see the same PROJECTS_ROOT, and the bench paces
 * the build (its control files) whichever worker runs it. stop() stops them all, deletes the
 * prefix's keys and removes the folder.
 */
export class BenchCluster {
  readonly fixture = new BenchFixture();
  readonly prefix: string;
  private readonly processes: ServerProcess[] = [];
  private readonly counts = { api: 0, worker: 0 };

  constructor(
    private readonly launch: (options: LaunchOptions) => Promise<ServerProcess>,
    private readonly redis: BenchRedis,
    /** Variables every process of the cluster gets (e.g. WORKER_LOST_MS). */
    private readonly env: Readonly<Record<string, string>> = {},
  ) {
    clustersStarted += 1;
    this.prefix = `bench-${RUN_STAMP}-${clustersStarted}:`;
  }

  /** Starts one more process of `role`; resolves once it answers /healthz (it reached Redis). */
  async start(role: ClusterRole): Promise<ServerProcess> {
    this.counts[role] += 1;
    const server = await this.launch({
      fixture: this.fixture,
      env: { ...this.env, REDIS_URL: this.redis.url, REDIS_PREFIX: this.prefix, ROLE: role, WORKER_NAME: this.nameOf(role, this.counts[role]) },
    });
    this.processes.push(server);
    return server;
  }

  /** The WORKER_NAME the n-th process of `role` was given. */
  nameOf(role: ClusterRole, n: number): string {
    return `bench-${role}-${n}`;
  }

  async stop(): Promise<void> {
    try {
      await Promise.all(this.processes.map((server) => server.stop()));
      await this.redis.deleteKeys(this.prefix);
    } finally {
      this.fixture.remove();
    }
  }
}
