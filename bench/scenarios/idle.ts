import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { go, waitForReady } from '../harness/bench-fixture.js';
import { CONNECT_TIMEOUT_MS, READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { MB, NOT_CLUSTER_MEASURED, NOT_SELF_MEASURED, type RowResult } from './cell-metrics.js';
import type { IdleSpec, Scenario } from './scenario-spec.js';

/** After the last connect: time for the servers to finish setting the streams up. */
const IDLE_SETTLE_MS = 1000;

/**
 * Scenario a: a build that prints nothing yet, and `clients` readers on its stream. Heap and
 * RSS are read right after a full GC in the server, before the readers connect and once they
 * are all in; the difference divided by the readers is the cost of one idle connection.
 */
export async function runIdle(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as IdleSpec;
  const { server, load } = context;
  const { id, control } = await startBuild(server, { lines: 0, rate: 0, burstLines: 1, width: context.lineWidth });
  await waitForReady(control, READY_TIMEOUT_MS);
  await sleep(SETTLE_MS);
  const before = await server.memory();
  const opened = await load.open({
    ports: [server.port],
    path: `/api/log/push?build=${id}`,
    clients: spec.clients,
    sampled: 0,
    stalled: 0,
    batch: context.connectBatch,
    timeoutMs: CONNECT_TIMEOUT_MS,
  });
  if (opened.failed > 0) throw new Error(`${opened.failed} of ${spec.clients} clients could not connect (${opened.firstFailure})`);
  await sleep(IDLE_SETTLE_MS);
  const after = await server.memory();
  // The build ends without a line; every stream gets its end and closes.
  go(control);
  const drained = await load.drain(0, 30000);
  await load.close();
  await waitForBuildEnd(server, id, 15000).catch(() => {});

  return [
    {
      row: scenario.rows[0]!,
      error: null,
      metrics: {
        clients: spec.clients,
        lines: 0,
        offered: 0,
        delivered: drained.delivered,
        wallMs: null,
        eventsPerSec: null,
        bytesPerEvent: null,
        cpuMs: null,
        cpuUsPerEvent: null,
        p50Ms: null,
        p99Ms: null,
        p999Ms: null,
        rssStartMb: before.rss / MB,
        rssPeakMb: after.rss / MB,
        rssGrowthMb: (after.rss - before.rss) / MB,
        heapPerConnKb: (after.heapUsed - before.heapUsed) / spec.clients / 1024,
        rssPerConnKb: (after.rss - before.rss) / spec.clients / 1024,
        genMaxLagMs: null,
        connectMs: opened.ms,
        loadCpuShare: null,
        shortReaders: 0,
        sequenceErrors: 0,
        isTimedOut: false,
        ...NOT_SELF_MEASURED,
        ...NOT_CLUSTER_MEASURED,
      },
    },
  ];
}
