import os from 'node:os';
import { cellKey, type CellRuns } from '../harness/run-cells.js';
import type { ServerKind } from '../harness/server-kinds.js';
import type { Scenario } from '../scenarios/scenario-spec.js';
import type { BenchMeta, BenchResults, CellResult } from './bench-results.js';
import { medianMetrics } from './median.js';
import { judgeTargets } from './targets.js';

export type RunSettings = Pick<BenchMeta, 'scale' | 'runs' | 'lineWidth' | 'connectBatch' | 'sampledClients' | 'reuseServers' | 'redisUrl'>;

/** The medians of every cell, the targets for OURS, and where the bench ran. */
export function assembleResults(
  scenarios: readonly Scenario[],
  servers: readonly ServerKind[],
  runs: CellRuns,
  /** Servers and stream readers the bench started. */
  serverPids: readonly number[],
  settings: RunSettings,
  startedAt: Date,
  loadAverageAtStart: readonly number[],
): BenchResults {
  const cells: CellResult[] = [];
  for (const scenario of scenarios) {
    for (const row of scenario.rows) {
      for (const server of servers.filter((s) => scenario.versus === 'servers' || s === 'OURS')) {
        const rowRuns = runs.results.get(cellKey(row, server)) ?? [];
        cells.push({ row, server, versus: scenario.versus, runs: rowRuns, median: medianMetrics(rowRuns), errors: rowRuns.flatMap((r) => (r.error ? [r.error] : [])) });
      }
    }
  }
  const lookup = (row: string, server: ServerKind) => cells.find((c) => c.row === row && c.server === server)?.median ?? null;
  const errorOf = (row: string, server: ServerKind) => cells.find((c) => c.row === row && c.server === server && c.median === null)?.errors[0] ?? null;
  const targets = servers.includes('OURS') ? judgeTargets(new Set(cells.map((c) => c.row)), lookup, errorOf) : [];
  const finishedAt = new Date();
  const cpus = os.cpus();
  return {
    meta: {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      node: process.version,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGb: os.totalmem() / 1024 ** 3,
      loadAverageAtStart,
      ...settings,
      scenarios: scenarios.map((s) => s.key),
      stream: 'GET /api/log/push?build=<id> (the build stream), readers connected before the first line (e: resumes with Last-Event-ID; f: live and after the end; h: split over the API processes; i: no reader, GET /api/builds/<id> polled)',
    },
    cells,
    targets,
    pids: [...serverPids, ...runs.loadPids],
  };
}
