import type { CellContext, ClusterContext } from '../scenarios/cell-context.js';
import type { RowResult } from '../scenarios/cell-metrics.js';
import { runnerFor } from '../scenarios/scenario-runners.js';
import type { Scenario } from '../scenarios/scenario-spec.js';
import type { BenchRedis } from './bench-redis.js';
import { LoadGenerator } from './load-generator.js';
import type { ServerKind } from './server-kinds.js';
import type { ServerPool } from './server-pool.js';

export interface CellPlan {
  readonly scenarios: readonly Scenario[];
  /** The clusters' Redis (rows h–j); null when no scenario of the plan needs it. */
  readonly redis: BenchRedis | null;
  readonly runs: number;
  readonly servers: readonly ServerKind[];
  readonly settings: Omit<CellContext, 'server' | 'load'>;
  readonly loadWorkerEntry: string;
  readonly loadProfileDir: string | null;
  readonly log: (line: string) => void;
}

/** Every run of every row on every server, in the order they ran. */
export interface CellRuns {
  readonly results: ReadonlyMap<string, readonly RowResult[]>;
  /** Every load worker started (a worker that dies is replaced). */
  readonly loadPids: readonly number[];
}

export const cellKey = (row: string, server: ServerKind) => `${row}\u0000${server}`;

/**
 * Runs the plan: for each scenario, `runs` rounds, each round every server once (so that a
 * noisy moment of the machine hits all three alike). A failed cell is recorded with its
 * error and the bench goes on with the next.
 */
export async function runCells(plan: CellPlan, pool: ServerPool): Promise<CellRuns> {
  const results = new Map<string, RowResult[]>();
  let load = LoadGenerator.start(plan.loadWorkerEntry, plan.loadProfileDir);
  const loadPids = [load.pid];
  try {
    for (const scenario of plan.scenarios) {
      plan.log(`--- ${scenario.key}: ${scenario.title}`);
      const runs = Math.min(plan.runs, scenario.maxRuns ?? plan.runs);
      for (let run = 1; run <= runs; run += 1) {
        // Rows e–j compare OURS with itself: the other servers take no part.
        for (const kind of plan.servers.filter((k) => scenario.versus === 'servers' || k === 'OURS')) {
          const started = performance.now();
          const rows = await runCell(scenario, kind, pool, load, plan);
          if (!load.isAlive) {
            // The worker died (a bug, or out of memory): the next cells get a fresh one.
            await load.stop();
            load = LoadGenerator.start(plan.loadWorkerEntry, plan.loadProfileDir);
            loadPids.push(load.pid);
          }
          for (const row of rows) {
            results.set(cellKey(row.row, kind), [...(results.get(cellKey(row.row, kind)) ?? []), row]);
            plan.log(`[${scenario.key} ${run}/${runs}] ${kind.padEnd(5)} ${describeRow(row)}  (cell ${((performance.now() - started) / 1000).toFixed(1)} s)`);
          }
        }
      }
    }
  } finally {
    await load.stop();
  }
  return { results, loadPids };
}

async function runCell(scenario: Scenario, kind: ServerKind, pool: ServerPool, load: LoadGenerator, plan: CellPlan): Promise<RowResult[]> {
  const { settings } = plan;
  const failed = (message: string) => scenario.rows.map((row) => ({ row, metrics: null, error: message }));
  const runner = runnerFor(scenario);
  if (runner.servers === 'cluster') {
    if (!plan.redis) return failed('no Redis for the cluster rows');
    const context: ClusterContext = { launch: (options) => pool.launch(kind, options), readerEntry: settings.readerEntry, lineWidth: settings.lineWidth, load, redis: plan.redis, connectBatch: settings.connectBatch, sampledClients: settings.sampledClients };
    try {
      return await runner.run(context, scenario);
    } catch (error) {
      await load.close().catch(() => {});
      return failed(messageOf(error));
    }
  }
  if (runner.servers === 'own') {
    // It starts and stops its servers itself (through the pool, which records their pids).
    try {
      return await runner.run({ launch: (options) => pool.launch(kind, options), readerEntry: settings.readerEntry, lineWidth: settings.lineWidth }, scenario);
    } catch (error) {
      return failed(messageOf(error));
    }
  }
  let server;
  try {
    server = await pool.acquire(kind);
  } catch (error) {
    return failed(`${kind} did not start: ${messageOf(error)}`);
  }
  try {
    const rows = await runner.run({ ...settings, server, load }, scenario);
    await pool.release(server, false);
    const profileFile = server.profileFile;
    return profileFile ? rows.map((row) => ({ ...row, profileFile })) : rows;
  } catch (error) {
    const exited = server.isRunning ? '' : ` (the server exited: ${server.stderr.trim().slice(-300)})`;
    await load.close().catch(() => {});
    await pool.release(server, true);
    return failed(messageOf(error) + exited);
  }
}

/** One progress line. */
function describeRow(result: RowResult): string {
  const m = result.metrics;
  if (!m) return `${result.row}: error: ${result.error}`;
  const parts = [result.row];
  if (m.offered > 0) parts.push(`delivered ${((100 * m.delivered) / m.offered).toFixed(2)}%${m.isTimedOut ? ' (timed out)' : ''}${m.sequenceErrors > 0 ? ` (${m.sequenceErrors} out of order)` : ''}`);
  if (m.cpuUsPerEvent !== null) parts.push(`${m.cpuUsPerEvent.toFixed(3)} us/ev`);
  if (m.p99Ms !== null) parts.push(`p99 ${m.p99Ms.toFixed(2)} ms`);
  if (m.heapPerConnKb !== null) parts.push(`heap/conn ${m.heapPerConnKb.toFixed(2)} KB`);
  if (m.firstEventMs !== null) parts.push(`first event ${m.firstEventMs.toFixed(1)} ms`);
  if (m.startupMs !== null) parts.push(`start-up ${m.startupMs.toFixed(0)} ms`);
  if (m.exactReaders !== null) parts.push(`exact ${m.exactReaders}/${m.clients}`);
  if (m.redisCpuUsPerEvent !== null) parts.push(`redis ${m.redisCpuUsPerEvent.toFixed(3)} us/ev`);
  if (m.interruptedMs !== null) parts.push(`interrupted after ${m.interruptedMs.toFixed(0)} ms`);
  if (m.firstEventMs !== null || m.startupMs !== null || m.outputBytes !== null) parts.push(`rss ${m.rssPeakMb.toFixed(1)} MB (+${m.rssGrowthMb.toFixed(1)})`);
  if (m.wallMs !== null) parts.push(`${(m.wallMs / 1000).toFixed(2)} s`);
  return parts.join(', ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
