import fs from 'node:fs';
import path from 'node:path';
import { LOST_WORKER_MS } from '../scenarios/scenario-spec.js';
import type { BenchResults } from './bench-results.js';
import { summarizeProfile } from './summarize-profile.js';
import { formatClusterTable, formatResultsTable, formatSelfTable, formatTargetsTable } from './table.js';

/** The report on stdout: where it ran, the medians, the targets, and any profiles. */
export function printReport(results: BenchResults, files: readonly string[], profileDir: string | null): void {
  const m = results.meta;
  const load = m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ');
  console.log(`\nbench: scale ${m.scale}, ${m.runs} run(s) per cell (medians), node ${m.node}, ${m.cpus} x ${m.cpuModel}, load average ${load} at start, ${m.durationS.toFixed(0)} s\n`);
  if (results.cells.some((c) => c.versus === 'servers')) console.log(formatResultsTable(results.cells));
  const self = formatSelfTable(results.cells);
  if (self !== '') {
    console.log('\nRows e–g: OURS against itself, same run (e: the 1M-event build against the 10k one; g: 10k kept builds against none; real sizes at this scale under size). LIMIT and SEED take no part.');
    console.log(self);
  }
  const cluster = formatClusterTable(results.cells);
  if (cluster !== '') {
    console.log(
      `\nRows h–j: OURS as a cluster on Redis (${m.redisUrl ?? 'REDIS_URL'}, a REDIS_PREFIX of its own per cluster) against OURS as one process (no Redis), same load, same run. i: WORKER_LOST_MS=${LOST_WORKER_MS}. Redis serves the whole machine: its CPU is an upper bound for the cluster.`,
    );
    console.log(cluster);
  }
  if (results.targets.length > 0) console.log(`\n${formatTargetsTable(results.targets)}`);
  if (profileDir) printProfiles(results, profileDir);
  console.log(`\nresults: ${files.join(', ')}`);
}

function printProfiles(results: BenchResults, profileDir: string): void {
  // Each profiled cell's measured window only (a server's profile also holds its start-up).
  for (const cell of results.cells) {
    for (const run of cell.runs) {
      if (!run.profileFile || !run.window || !fs.existsSync(run.profileFile)) continue;
      console.log(`\n${cell.row} ${cell.server}: ${summarizeProfile(run.profileFile, run.window)}`);
    }
  }
  for (const file of fs.readdirSync(profileDir).filter((f) => f.startsWith('LOAD-'))) {
    console.log(`\nload worker: ${summarizeProfile(path.join(profileDir, file))}`);
  }
}
