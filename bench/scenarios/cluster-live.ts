import { BenchCluster } from '../harness/bench-cluster.js';
import { ClusterSideCpu } from '../harness/cluster-side-cpu.js';
import { ProcessSet } from '../harness/process-set.js';
import type { ClusterContext } from './cell-context.js';
import type { RowResult } from './cell-metrics.js';
import { measureLive } from './live.js';
import { measureRow, withProfile } from './measure-row.js';
import type { ClusterLiveSpec, Scenario } from './scenario-spec.js';

/**
 * Row h: b's load (clients connected to the build's stream before its first line, then
 * `rate` lines/s) on a cluster: `workers` workers run the build, `apiProcesses` API processes
 * serve the readers, split into equal shares. Measured as b is, with the CPU of the API
 * processes summed; Redis's and the workers' CPU over the same window beside it. The same
 * load on one process (no Redis) first, in the same run, is what the cluster is judged against.
 */
export async function runClusterLive(context: ClusterContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as ClusterLiveSpec;
  const [clusterRow, oneRow] = scenario.rows as [string, string];
  const settings = { connectBatch: context.connectBatch, sampledClients: context.sampledClients, lineWidth: context.lineWidth };

  const one = await measureRow(oneRow, context.load, async () => {
    const server = await context.launch();
    try {
      const { metrics, window } = await measureLive({ buildVia: server, readFrom: [server], measured: new ProcessSet([server]), load: context.load, side: null }, spec.live, settings);
      return { metrics, ...withProfile(server, window) };
    } finally {
      await server.stop();
    }
  });

  const cluster = await measureRow(clusterRow, context.load, async () => {
    const processes = new BenchCluster(context.launch, context.redis);
    try {
      const workers = [];
      for (let n = 0; n < spec.workers; n += 1) workers.push(await processes.start('worker'));
      const apis = [];
      for (let n = 0; n < spec.apiProcesses; n += 1) apis.push(await processes.start('api'));
      const side = new ClusterSideCpu(context.redis, new ProcessSet(workers));
      const { metrics, window } = await measureLive({ buildVia: apis[0]!, readFrom: apis, measured: new ProcessSet(apis), load: context.load, side }, spec.live, settings);
      // With --profile, the first API process's profile (the other serves the same share).
      return { metrics, ...withProfile(apis[0]!, window) };
    } finally {
      await processes.stop();
    }
  });
  return [cluster, one];
}
