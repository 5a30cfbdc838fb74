import { runBigBuild } from './big-build.js';
import { runClusterLive } from './cluster-live.js';
import { runClusterReplay } from './cluster-replay.js';
import { runIdle } from './idle.js';
import { runLive } from './live.js';
import { runLostWorker } from './lost-worker.js';
import { runReplay } from './replay.js';
import { runResume } from './resume.js';
import type { ClusterRunner, OwnServerRunner, Scenario, ScenarioRunner } from './scenario-spec.js';
import { runStartup } from './startup.js';

/** How a scenario runs: against the server of its cell, starting its own, or starting clusters on Redis (h–j). */
export type Runner =
  | { readonly servers: 'cell'; readonly run: ScenarioRunner }
  | { readonly servers: 'own'; readonly run: OwnServerRunner }
  | { readonly servers: 'cluster'; readonly run: ClusterRunner };

/** The function that runs a scenario of each kind. */
export function runnerFor(scenario: Scenario): Runner {
  switch (scenario.spec.kind) {
    case 'idle':
      return { servers: 'cell', run: runIdle };
    case 'replay':
      return { servers: 'cell', run: runReplay };
    case 'big-build':
      return { servers: 'cell', run: runBigBuild };
    case 'resume':
      return { servers: 'own', run: runResume };
    case 'startup':
      return { servers: 'own', run: runStartup };
    case 'live':
      return { servers: 'cell', run: runLive };
    case 'cluster-live':
      return { servers: 'cluster', run: runClusterLive };
    case 'lost-worker':
      return { servers: 'cluster', run: runLostWorker };
    case 'cluster-replay':
      return { servers: 'cluster', run: runClusterReplay };
  }
}

/** The most connections a scenario opens to one process at once (for MAX_CLIENTS). */
export function maxConnections(scenario: Scenario): number {
  const { spec } = scenario;
  switch (spec.kind) {
    case 'replay':
      return Math.max(...spec.clientCounts);
    case 'idle':
      return spec.clients;
    case 'big-build':
      return spec.liveReaders + spec.replayReaders;
    case 'resume':
    case 'startup':
    case 'lost-worker':
      return 1;
    case 'live':
      return spec.clients + spec.stalled;
    case 'cluster-live':
      // The one-process row takes them all.
      return spec.live.clients + spec.live.stalled;
    case 'cluster-replay':
      return spec.clients;
  }
}

/** Whether a scenario needs Redis (rows h–j). */
export function needsRedis(scenario: Scenario): boolean {
  return runnerFor(scenario).servers === 'cluster';
}
