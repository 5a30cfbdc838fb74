import type { CellContext } from './cell-context.js';
import type { RowResult } from './cell-metrics.js';

/** The bench's scenarios at scale 1, as the task lists them. */
export interface LiveSpec {
  readonly kind: 'live';
  readonly clients: number;
  readonly rate: number;
  readonly burstLines: number;
  readonly durationMs: number;
  /** Clients that stop reading after their first chunk. */
  readonly stalled: number;
}

export interface IdleSpec {
  readonly kind: 'idle';
  readonly clients: number;
}

export interface ReplaySpec {
  readonly kind: 'replay';
  readonly lines: number;
  /** Replays run one after the other, each with this many clients at once. */
  readonly clientCounts: readonly number[];
}

export type Spec = LiveSpec | IdleSpec | ReplaySpec;

export interface Scenario {
  /** Its CLI name (`--only`). */
  readonly key: string;
  readonly title: string;
  readonly spec: Spec;
  /** The rows it produces (c produces one per client count). */
  readonly rows: readonly string[];
}

export type ScenarioRunner = (context: CellContext, scenario: Scenario) => Promise<RowResult[]>;

/** Bounds that keep a scaled-down bench meaningful. */
const MIN_CLIENTS = 5;
const MIN_DURATION_MS = 500;
const MIN_REPLAY_LINES = 500;
const MIN_REPLAY_CLIENTS = 2;

function live(clients: number, rate: number, burstLines: number, durationMs: number, stalled: number): LiveSpec {
  return { kind: 'live', clients, rate, burstLines, durationMs, stalled };
}

/** The scenarios, scaled: clients, durations and replay sizes times `scale` (rates stay). */
export function scenarios(scale: number): Scenario[] {
  const clients = (n: number) => Math.max(MIN_CLIENTS, Math.round(n * scale));
  const duration = (ms: number) => Math.max(MIN_DURATION_MS, Math.round(ms * scale));
  const replayClients = [1, Math.max(MIN_REPLAY_CLIENTS, Math.round(100 * scale))];
  return [
    { key: 'a', title: 'idle connections: heap and RSS per connection after GC', spec: { kind: 'idle', clients: clients(10000) }, rows: ['a'] },
    { key: 'b', title: 'live: 1,000 clients x 5,000 lines/s', spec: live(clients(1000), 5000, 100, duration(10000), 0), rows: ['b'] },
    { key: 'b1', title: "live: 1,000 clients x 50 lines/s (b')", spec: live(clients(1000), 50, 5, duration(10000), 0), rows: ["b'"] },
    { key: 'b2', title: "live: 10,000 clients x 100 lines/s (b'')", spec: live(clients(10000), 100, 10, duration(10000), 0), rows: ["b''"] },
    {
      key: 'c',
      title: 'replay of a finished 100,000-line build',
      spec: { kind: 'replay', lines: Math.max(MIN_REPLAY_LINES, Math.round(100000 * scale)), clientCounts: replayClients },
      rows: replayClients.map((n, i) => (i === 0 ? 'c/1' : 'c/100')),
    },
    { key: 'd', title: 'scenario b plus one client that stops reading', spec: live(clients(1000), 5000, 100, duration(10000), 1), rows: ['d'] },
  ];
}
