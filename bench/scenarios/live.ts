import type { ClusterSideCpu } from '../harness/cluster-side-cpu.js';
import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { go, readStats, waitForReady } from '../harness/bench-fixture.js';
import type { LoadGenerator } from '../harness/load-generator.js';
import { ProcessSet } from '../harness/process-set.js';
import type { ServerProcess } from '../harness/server-process.js';
import { CONNECT_TIMEOUT_MS, READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { NOT_CLUSTER_MEASURED, NOT_SELF_MEASURED, type CellMetrics, type MeasuredWindow, type RowResult } from './cell-metrics.js';
import { openDeliveryWindow } from './measure-delivery.js';
import type { LiveSpec, Scenario } from './scenario-spec.js';

/** Extra time after the build's last line for readers to get everything (it bounds every run). */
export function drainAllowanceMs(durationMs: number): number {
  return Math.max(3000, durationMs / 2);
}

/** Where a live measure runs: one server, or a cluster's API processes. */
export interface LiveSetup {
  /** The process the build is POSTed to (and polled until it ends). */
  readonly buildVia: ServerProcess;
  /** The processes the readers connect to, in equal shares. */
  readonly readFrom: readonly ServerProcess[];
  /** The processes whose CPU and RSS the row reports. */
  readonly measured: ProcessSet;
  readonly load: LoadGenerator;
  /** A cluster's Redis and workers, measured over the same window; null for one process. */
  readonly side: ClusterSideCpu | null;
}

export type LiveSettings = Pick<CellContext, 'connectBatch' | 'sampledClients' | 'lineWidth'>;

/**
 * Scenarios b, b', b'' and d: readers connect to a build's stream (?build=<id>) before its
 * first line, then the build prints `rate` lines/s for `durationMs`. Server CPU is read from
 * the first line until every reader has all lines (or the allowance is over); latency from
 * the sampled readers; RSS is sampled all along.
 */
export async function runLive(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const { server, load } = context;
  const measured = await measureLive({ buildVia: server, readFrom: [server], measured: new ProcessSet([server]), load, side: null }, scenario.spec as LiveSpec, context);
  return [{ row: scenario.rows[0]!, error: null, ...measured }];
}

/** One live measure (b's, on any setup): the readers connect, the build prints, the window spans the lines. */
export async function measureLive(setup: LiveSetup, spec: LiveSpec, settings: LiveSettings): Promise<{ window: MeasuredWindow; metrics: CellMetrics }> {
  const { buildVia, load } = setup;
  const lines = Math.round((spec.rate * spec.durationMs) / 1000);
  const { id, control } = await startBuild(buildVia, { lines, rate: spec.rate, burstLines: spec.burstLines, width: settings.lineWidth });
  const opened = await load.open({
    ports: setup.readFrom.map((server) => server.port),
    path: `/api/log/push?build=${id}`,
    clients: spec.clients,
    sampled: Math.min(settings.sampledClients, spec.clients),
    stalled: spec.stalled,
    batch: settings.connectBatch,
    timeoutMs: CONNECT_TIMEOUT_MS,
  });
  if (opened.failed > 0) throw new Error(`${opened.failed} of ${spec.clients + spec.stalled} clients could not connect (${opened.firstFailure})`);
  await waitForReady(control, READY_TIMEOUT_MS);
  await sleep(SETTLE_MS);

  const side = await setup.side?.open();
  const measuring = openDeliveryWindow(setup.measured, load);
  go(control);
  const drained = await load.drain(lines, spec.durationMs + drainAllowanceMs(spec.durationMs));
  const { window, metrics } = measuring.close(drained);
  const cluster = side ? await side.close(drained.delivered) : NOT_CLUSTER_MEASURED;
  await load.close();
  const stats = await readStats(control, 2000).catch(() => null);
  if (!drained.isTimedOut) await waitForBuildEnd(buildVia, id, 15000).catch(() => {});

  return {
    window,
    metrics: {
      ...metrics,
      clients: spec.clients,
      lines,
      offered: lines * spec.clients,
      p50Ms: drained.latency.p50Ms,
      p99Ms: drained.latency.p99Ms,
      p999Ms: drained.latency.p999Ms,
      heapPerConnKb: null,
      rssPerConnKb: null,
      genMaxLagMs: stats?.maxLagMs ?? null,
      connectMs: opened.ms,
      ...NOT_SELF_MEASURED,
      ...NOT_CLUSTER_MEASURED,
      ...cluster,
    },
  };
}
