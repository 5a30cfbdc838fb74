import { runBigBuild } from './big-build.js';
import { runIdle } from './idle.js';
import { runLive } from './live.js';
import { runReplay } from './replay.js';
import { runResume } from './resume.js';
import type { OwnServerRunner, Scenario, ScenarioRunner } from './scenario-spec.js';
import { runStartup } from './startup.js';

/** How a scenario runs: against the server of its cell, or starting its own. */
export type Runner = { readonly ownServers: false; readonly run: ScenarioRunner } | { readonly ownServers: true; readonly run: OwnServerRunner };

/** The function that runs a scenario of each kind. */
export function runnerFor(scenario: Scenario): Runner {
  switch (scenario.spec.kind) {
    case 'idle':
      return { ownServers: false, run: runIdle };
    case 'replay':
      return { ownServers: false, run: runReplay };
    case 'big-build':
      return { ownServers: false, run: runBigBuild };
    case 'resume':
      return { ownServers: true, run: runResume };
    case 'startup':
      return { ownServers: true, run: runStartup };
    case 'live':
      return { ownServers: false, run: runLive };
  }
}

/** The most connections a scenario opens at once (for MAX_CLIENTS). */
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
      return 1;
    case 'live':
      return spec.clients + spec.stalled;
  }
}
