import type { CellContext, OwnServerContext } from './cell-context.js';
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

/** Row e: resumes of a finished build of `events` events, against one of `referenceEvents`. */
export interface ResumeSpec {
  readonly kind: 'resume';
  readonly events: number;
  readonly referenceEvents: number;
}

/** Row f: one build of `totalBytes` with one long line, read live and replayed. */
export interface BigBuildSpec {
  readonly kind: 'big-build';
  readonly totalBytes: number;
  readonly longLineBytes: number;
  readonly lineBytes: number;
  /** Readers connected before the build starts. */
  readonly liveReaders: number;
  /** Readers that connect once the build is over, each replaying it whole. */
  readonly replayReaders: number;
}

/** Row g: start-up on a DATA_DIR of `keptBuilds` finished builds, against an empty one. */
export interface StartupSpec {
  readonly kind: 'startup';
  readonly keptBuilds: number;
  readonly eventsPerBuild: number;
}

export type Spec = LiveSpec | IdleSpec | ReplaySpec | ResumeSpec | BigBuildSpec | StartupSpec;

export interface Scenario {
  /** Its CLI name (`--only`). */
  readonly key: string;
  readonly title: string;
  readonly spec: Spec;
  /** The rows it produces (c produces one per client count). */
  readonly rows: readonly string[];
  /**
   * `servers`: every server kind runs it and the targets compare them. `itself`: only OURS
   * runs it, at two sizes, and the targets compare its rows with each other (e–g).
   */
  readonly versus: 'servers' | 'itself';
  /** At most this many runs, whatever --runs says (a long row whose figures barely move). */
  readonly maxRuns?: number;
}

/** Runs a scenario against the server the pool hands out for the cell. */
export type ScenarioRunner = (context: CellContext, scenario: Scenario) => Promise<RowResult[]>;
/** Runs a scenario that starts (and stops) its own servers, e.g. on a DATA_DIR it generated, restarted between measures. */
export type OwnServerRunner = (context: OwnServerContext, scenario: Scenario) => Promise<RowResult[]>;

/** Bounds that keep a scaled-down bench meaningful. */
const MIN_CLIENTS = 5;
const MIN_DURATION_MS = 500;
const MIN_REPLAY_LINES = 500;
const MIN_REPLAY_CLIENTS = 2;
const MIN_RESUME_EVENTS = 5000;
const MIN_REFERENCE_EVENTS = 100;
/** A long line must still be several of the contract's 64 KiB events. */
const MIN_LONG_LINE_BYTES = 256 << 10;
const MIN_BIG_READERS = 2;
const MIN_KEPT_BUILDS = 20;
const MB = 1 << 20;

/** The resume rows of e: the build's size, where the id points, and whether the server was just started. */
export const RESUME_SIZES = ['1M', '10k'] as const;
export const RESUME_IDS = ['mid', 'made-up'] as const;
export const RESUME_STATES = ['cold', 'warm'] as const;

export function resumeRow(size: (typeof RESUME_SIZES)[number], id: (typeof RESUME_IDS)[number], state: (typeof RESUME_STATES)[number]): string {
  return `e/${size}/${id}/${state}`;
}

function live(clients: number, rate: number, burstLines: number, durationMs: number, stalled: number): LiveSpec {
  return { kind: 'live', clients, rate, burstLines, durationMs, stalled };
}

/** The scenarios, scaled: clients, durations and replay sizes times `scale` (rates stay). */
export function scenarios(scale: number): Scenario[] {
  const clients = (n: number) => Math.max(MIN_CLIENTS, Math.round(n * scale));
  const duration = (ms: number) => Math.max(MIN_DURATION_MS, Math.round(ms * scale));
  const replayClients = [1, Math.max(MIN_REPLAY_CLIENTS, Math.round(100 * scale))];
  return [
    { key: 'a', title: 'idle connections: heap and RSS per connection after GC', spec: { kind: 'idle', clients: clients(10000) }, rows: ['a'], versus: 'servers' },
    { key: 'b', title: 'live: 1,000 clients x 5,000 lines/s', spec: live(clients(1000), 5000, 100, duration(10000), 0), rows: ['b'], versus: 'servers' },
    { key: 'b1', title: "live: 1,000 clients x 50 lines/s (b')", spec: live(clients(1000), 50, 5, duration(10000), 0), rows: ["b'"], versus: 'servers' },
    { key: 'b2', title: "live: 10,000 clients x 100 lines/s (b'')", spec: live(clients(10000), 100, 10, duration(10000), 0), rows: ["b''"], versus: 'servers' },
    {
      key: 'c',
      title: 'replay of a finished 100,000-line build',
      spec: { kind: 'replay', lines: Math.max(MIN_REPLAY_LINES, Math.round(100000 * scale)), clientCounts: replayClients },
      rows: replayClients.map((n, i) => (i === 0 ? 'c/1' : 'c/100')),
      versus: 'servers',
    },
    { key: 'd', title: 'scenario b plus one client that stops reading', spec: live(clients(1000), 5000, 100, duration(10000), 1), rows: ['d'], versus: 'servers' },
    {
      key: 'e',
      title: 'resume of a finished 1,000,000-event build (mid id, made-up id; cold, warm) against a 10,000-event one',
      spec: { kind: 'resume', events: Math.max(MIN_RESUME_EVENTS, Math.round(1e6 * scale)), referenceEvents: Math.max(MIN_REFERENCE_EVENTS, Math.round(1e4 * scale)) },
      rows: RESUME_SIZES.flatMap((size) => RESUME_IDS.flatMap((id) => RESUME_STATES.map((state) => resumeRow(size, id, state)))),
      versus: 'itself',
    },
    {
      key: 'f',
      title: 'a 200 MB build with one 50 MB line: 10 readers live, 10 replaying it after it ended',
      spec: {
        kind: 'big-build',
        totalBytes: Math.max(4 * MIN_LONG_LINE_BYTES, Math.round(200 * MB * scale)),
        longLineBytes: Math.max(MIN_LONG_LINE_BYTES, Math.round(50 * MB * scale)),
        lineBytes: 1000,
        liveReaders: Math.max(MIN_BIG_READERS, Math.round(10 * scale)),
        replayReaders: Math.max(MIN_BIG_READERS, Math.round(10 * scale)),
      },
      rows: ['f'],
      versus: 'itself',
      // About 30 s on the 2-core machine; its peak moved by 1.5 MB over three runs.
      maxRuns: 1,
    },
    {
      key: 'g',
      title: 'start-up with 10,000 kept builds against none',
      spec: { kind: 'startup', keptBuilds: Math.max(MIN_KEPT_BUILDS, Math.round(10000 * scale)), eventsPerBuild: 50 },
      rows: ['g/10k', 'g/0'],
      versus: 'itself',
    },
  ];
}
