import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { go, readStats, waitForReady } from '../harness/bench-fixture.js';
import { CONNECT_TIMEOUT_MS, READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { NOT_SELF_MEASURED, type RowResult } from './cell-metrics.js';
import { openDeliveryWindow } from './measure-delivery.js';
import type { LiveSpec, Scenario } from './scenario-spec.js';

/** Extra time after the build's last line for readers to get everything (it bounds every run). */
export function drainAllowanceMs(durationMs: number): number {
  return Math.max(3000, durationMs / 2);
}

/**
 * Scenarios b, b', b'' and d: readers connect to a build's stream (?build=<id>) before its
 * first line, then the build prints `rate` lines/s for `durationMs`. Server CPU is read from
 * the first line until every reader has all lines (or the allowance is over); latency from
 * the sampled readers; RSS is sampled all along.
 */
export async function runLive(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as LiveSpec;
  const { server, load } = context;
  const lines = Math.round((spec.rate * spec.durationMs) / 1000);
  const { id, control } = await startBuild(server, { lines, rate: spec.rate, burstLines: spec.burstLines, width: context.lineWidth });
  const opened = await load.open({
    port: server.port,
    path: `/api/log/push?build=${id}`,
    clients: spec.clients,
    sampled: Math.min(context.sampledClients, spec.clients),
    stalled: spec.stalled,
    batch: context.connectBatch,
    timeoutMs: CONNECT_TIMEOUT_MS,
  });
  if (opened.failed > 0) throw new Error(`${opened.failed} of ${spec.clients + spec.stalled} clients could not connect (${opened.firstFailure})`);
  await waitForReady(control, READY_TIMEOUT_MS);
  await sleep(SETTLE_MS);

  const measuring = openDeliveryWindow(server, load);
  go(control);
  const drained = await load.drain(lines, spec.durationMs + drainAllowanceMs(spec.durationMs));
  const { window, metrics } = measuring.close(drained);
  await load.close();
  const stats = await readStats(control, 2000).catch(() => null);
  if (!drained.isTimedOut) await waitForBuildEnd(server, id, 15000).catch(() => {});

  const offered = lines * spec.clients;
  return [
    {
      row: scenario.rows[0]!,
      error: null,
      window,
      metrics: {
        ...metrics,
        clients: spec.clients,
        lines,
        offered,
        p50Ms: drained.latency.p50Ms,
        p99Ms: drained.latency.p99Ms,
        p999Ms: drained.latency.p999Ms,
        heapPerConnKb: null,
        rssPerConnKb: null,
        genMaxLagMs: stats?.maxLagMs ?? null,
        connectMs: opened.ms,
        ...NOT_SELF_MEASURED,
      },
    },
  ];
}
