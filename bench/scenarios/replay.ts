import type { ClusterSideCpu } from '../harness/cluster-side-cpu.js';
import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { go, readStats, waitForReady } from '../harness/bench-fixture.js';
import type { LoadGenerator } from '../harness/load-generator.js';
import { ProcessSet } from '../harness/process-set.js';
import type { ServerProcess } from '../harness/server-process.js';
import { CONNECT_TIMEOUT_MS, READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { NOT_CLUSTER_MEASURED, NOT_SELF_MEASURED, type RowResult } from './cell-metrics.js';
import { openDeliveryWindow } from './measure-delivery.js';
import type { ReplaySpec, Scenario } from './scenario-spec.js';

/** A build printed as fast as the pipe takes it, then replayed: bounded per replay. */
const BUILD_TIMEOUT_MS = 180000;
/** Once the script has written its last line, the server has this long to end the build (it takes seconds). */
const END_AFTER_LAST_LINE_MS = 60000;
const REPLAY_TIMEOUT_MS = 60000;

/** Where a replay is read: the process the readers connect to, and what the row reports. */
export interface ReplaySetup {
  readonly readFrom: ServerProcess;
  /** The processes whose CPU and RSS the row reports. */
  readonly measured: ProcessSet;
  readonly load: LoadGenerator;
  /** A cluster's Redis and workers, measured over the same window; null for one process. */
  readonly side: ClusterSideCpu | null;
}

/**
 * Scenario c: a build prints `lines` lines with no reader; once it is over, `n` clients at
 * once connect to its stream without a Last-Event-ID, i.e. ask for the whole replay. Server
 * CPU and wall time are read from the first connect until every reader has the whole build.
 */
export async function runReplay(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as ReplaySpec;
  const { server, load } = context;
  const id = await runBuildWithoutReaders(server, spec.lines, context.lineWidth);
  await sleep(SETTLE_MS);

  const results: RowResult[] = [];
  for (const [index, clients] of spec.clientCounts.entries()) {
    results.push(await measureReplay({ readFrom: server, measured: new ProcessSet([server]), load, side: null }, scenario.rows[index]!, id, spec.lines, clients));
    await sleep(SETTLE_MS);
  }
  return results;
}

/** Runs a build of `lines` lines as fast as the pipe takes them, with no reader; resolves with its id once it is over. */
export async function runBuildWithoutReaders(server: ServerProcess, lines: number, lineWidth: number): Promise<string> {
  const { id, control } = await startBuild(server, { lines, rate: 0, burstLines: 1000, width: lineWidth });
  await waitForReady(control, READY_TIMEOUT_MS);
  go(control);
  // Its stats mark the last line written: a build still running long after is the server's doing, and said so.
  await readStats(control, BUILD_TIMEOUT_MS);
  try {
    await waitForBuildEnd(server, id, END_AFTER_LAST_LINE_MS);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}, counted from its script's last line (${lines} lines, written as fast as the pipe took them)`);
  }
  return id;
}

/** `clients` readers at once replay the finished build `buildId` (`lines` lines) whole; the window spans the first connect to the last reader done. */
export async function measureReplay(setup: ReplaySetup, row: string, buildId: string, lines: number, clients: number): Promise<RowResult> {
  const { readFrom, load } = setup;
  const side = await setup.side?.open();
  const measuring = openDeliveryWindow(setup.measured, load);
  const opened = await load.open({
    ports: [readFrom.port],
    path: `/api/log/push?build=${buildId}`,
    clients,
    sampled: 0,
    stalled: 0,
    batch: clients,
    timeoutMs: CONNECT_TIMEOUT_MS,
  });
  const drained = await load.drain(lines, REPLAY_TIMEOUT_MS);
  const { window, metrics } = measuring.close(drained);
  const cluster = side ? await side.close(drained.delivered) : NOT_CLUSTER_MEASURED;
  await load.close();
  if (opened.failed > 0) return { row, metrics: null, error: `${opened.failed} of ${clients} clients could not connect (${opened.firstFailure})` };
  return {
    row,
    error: null,
    window,
    metrics: {
      ...metrics,
      clients,
      lines,
      offered: lines * clients,
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      heapPerConnKb: null,
      rssPerConnKb: null,
      genMaxLagMs: null,
      connectMs: opened.ms,
      ...NOT_SELF_MEASURED,
      ...NOT_CLUSTER_MEASURED,
      ...cluster,
    },
  };
}
