import { BenchCluster } from '../harness/bench-cluster.js';
import { ClusterSideCpu } from '../harness/cluster-side-cpu.js';
import { ProcessSet } from '../harness/process-set.js';
import type { ServerProcess } from '../harness/server-process.js';
import { SETTLE_MS, sleep, type ClusterContext } from './cell-context.js';
import type { RowResult } from './cell-metrics.js';
import { measureRow, withProfile } from './measure-row.js';
import { measureReplay, runBuildWithoutReaders, type ReplaySetup } from './replay.js';
import type { ClusterReplaySpec, Scenario } from './scenario-spec.js';

/**
 * Row j: a build of `lines` lines run by a cluster's worker (POSTed to an API process that is
 * stopped once the build is over), then replayed whole to `clients` readers at once by an API
 * process started only then: it holds nothing of the build, every frame comes from Redis.
 * Measured as c/100 is: the fresh API process's CPU from the first connect to the last reader
 * done, per delivered event; Redis's and the worker's CPU beside it. Judged against the same
 * replay on one process (c's way: the server that ran the build replays it), in the same run.
 */
export async function runClusterReplay(context: ClusterContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as ClusterReplaySpec;
  const [clusterRow, oneRow] = scenario.rows as [string, string];
  const replay = async (setup: ReplaySetup, row: string, buildId: string) => {
    const result = await measureReplay(setup, row, buildId, spec.lines, spec.clients);
    if (result.error !== null) throw new Error(result.error);
    return { metrics: result.metrics, ...withProfile(setup.readFrom, result.window) };
  };

  const one = await measureRow(oneRow, context.load, async () => {
    const server = await context.launch();
    try {
      const buildId = await runBuildWithoutReaders(server, spec.lines, context.lineWidth);
      await sleep(SETTLE_MS);
      return await replay({ readFrom: server, measured: new ProcessSet([server]), load: context.load, side: null }, oneRow, buildId);
    } finally {
      await server.stop();
    }
  });

  const cluster = await measureRow(clusterRow, context.load, async () => {
    const processes = new BenchCluster(context.launch, context.redis);
    try {
      const worker = await processes.start('worker');
      const builder: ServerProcess = await processes.start('api');
      const buildId = await runBuildWithoutReaders(builder, spec.lines, context.lineWidth);
      await builder.stop();
      const reader = await processes.start('api');
      await sleep(SETTLE_MS);
      const side = new ClusterSideCpu(context.redis, new ProcessSet([worker]));
      return await replay({ readFrom: reader, measured: new ProcessSet([reader]), load: context.load, side }, clusterRow, buildId);
    } finally {
      await processes.stop();
    }
  });
  return [cluster, one];
}
