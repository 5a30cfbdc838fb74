import { runIdle } from './idle.js';
import { runLive } from './live.js';
import { runReplay } from './replay.js';
import type { Scenario, ScenarioRunner } from './scenario-spec.js';

/** The function that runs a scenario of each kind. */
export function runnerFor(scenario: Scenario): ScenarioRunner {
  if (scenario.spec.kind === 'idle') return runIdle;
  if (scenario.spec.kind === 'replay') return runReplay;
  return runLive;
}

/** The most connections a scenario opens at once (for MAX_CLIENTS). */
export function maxConnections(scenario: Scenario): number {
  const { spec } = scenario;
  if (spec.kind === 'replay') return Math.max(...spec.clientCounts);
  if (spec.kind === 'idle') return spec.clients;
  return spec.clients + spec.stalled;
}
