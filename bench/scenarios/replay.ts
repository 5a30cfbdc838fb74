import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { go, waitForReady } from '../harness/bench-fixture.js';
import { CONNECT_TIMEOUT_MS, READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { NOT_SELF_MEASURED, type RowResult } from './cell-metrics.js';
import { openDeliveryWindow } from './measure-delivery.js';
import type { ReplaySpec, Scenario } from './scenario-spec.js';

/** A build printed as fast as the pipe takes it, then replayed: bounded per replay. */
const BUILD_TIMEOUT_MS = 180000;
const REPLAY_TIMEOUT_MS = 60000;

/**
 * Scenario c: a build prints `lines` lines with no reader; once it is over, `n` clients at
 * once connect to its stream without a Last-Event-ID, i.e. ask for the whole replay. Server
 * CPU and wall time are read from the first connect until every reader has the whole build.
 */
export async function runReplay(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as ReplaySpec;
  const { server, load } = context;
  const { id, control } = await startBuild(server, { lines: spec.lines, rate: 0, burstLines: 1000, width: context.lineWidth });
  await waitForReady(control, READY_TIMEOUT_MS);
  go(control);
  await waitForBuildEnd(server, id, BUILD_TIMEOUT_MS);
  await sleep(SETTLE_MS);

  const results: RowResult[] = [];
  for (const [index, clients] of spec.clientCounts.entries()) {
    const measuring = openDeliveryWindow(server, load);
    const opened = await load.open({
      port: server.port,
      path: `/api/log/push?build=${id}`,
      clients,
      sampled: 0,
      stalled: 0,
      batch: clients,
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    const drained = await load.drain(spec.lines, REPLAY_TIMEOUT_MS);
    const { window, metrics } = measuring.close(drained);
    await load.close();
    const row = scenario.rows[index]!;
    if (opened.failed > 0) {
      results.push({ row, metrics: null, error: `${opened.failed} of ${clients} clients could not connect (${opened.firstFailure})` });
      continue;
    }
    results.push({
      row,
      error: null,
      window,
      metrics: {
        ...metrics,
        clients,
        lines: spec.lines,
        offered: spec.lines * clients,
        p50Ms: null,
        p99Ms: null,
        p999Ms: null,
        heapPerConnKb: null,
        rssPerConnKb: null,
        genMaxLagMs: null,
        connectMs: opened.ms,
        ...NOT_SELF_MEASURED,
      },
    });
    await sleep(SETTLE_MS);
  }
  return results;
}
