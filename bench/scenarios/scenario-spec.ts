import type { CellContext, ClusterContext, OwnServerContext } from './cell-context.js';
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

/** Row h: b's live load on a cluster (`apiProcesses` API processes sharing the readers, `workers` workers), against one process. */
export interface ClusterLiveSpec {
  readonly kind: 'cluster-live';
  readonly live: LiveSpec;
  readonly apiProcesses: number;
  readonly workers: number;
}

/** Row i: a worker SIGKILLed while its build prints, in a cluster whose WORKER_LOST_MS is `workerLostMs`. */
export interface LostWorkerSpec {
  readonly kind: 'lost-worker';
  readonly workerLostMs: number;
  /** The build prints `rate` lines/s in bursts of `burstLines`, for `runningMs` before the kill. */
  readonly rate: number;
  readonly burstLines: number;
  readonly runningMs: number;
}

/** Row j: a finished build of `lines` lines replayed to `clients` readers by an API process started after it ran, against one process. */
export interface ClusterReplaySpec {
  readonly kind: 'cluster-replay';
  readonly lines: number;
  readonly clients: number;
}

export type Spec = LiveSpec | IdleSpec | ReplaySpec | ResumeSpec | BigBuildSpec | StartupSpec | ClusterLiveSpec | LostWorkerSpec | ClusterReplaySpec;

export interface Scenario {
  /** Its CLI name (`--only`). */
  readonly key: string;
  readonly title: string;
  readonly spec: Spec;
  /** The rows it produces (c produces one per client count). */
  readonly rows: readonly string[];
  /**
   * `servers`: every server kind runs it and the targets compare them. `itself`: only OURS
   * runs it, at two sizes, and the targets compare its rows with each other (e–g). `cluster`:
   * only OURS runs it, as a cluster on Redis and (h, j) as one process, side by side (h–j).
   */
  readonly versus: 'servers' | 'itself' | 'cluster';
  /** At most this many runs, whatever --runs says (a long row whose figures barely move). */
  readonly maxRuns?: number;
}

/** Runs a scenario against the server the pool hands out for the cell. */
export type ScenarioRunner = (context: CellContext, scenario: Scenario) => Promise<RowResult[]>;
/** Runs a scenario that starts (and stops) its own servers, e.g. on a DATA_DIR it generated, restarted between measures. */
export type OwnServerRunner = (context: OwnServerContext, scenario: Scenario) => Promise<RowResult[]>;
/** Runs a scenario of rows h–j: it starts its clusters (and its one-process server) itself, and loads them with the load worker. */
export type ClusterRunner = (context: ClusterContext, scenario: Scenario) => Promise<RowResult[]>;

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

/** Row i's WORKER_LOST_MS: short, so that the row takes seconds; the contract's bound is this + 5 s. */
export const LOST_WORKER_MS = 3000;

/** What each process setup of rows h–j is, for the report. */
export const CLUSTER_SETUPS: Readonly<Record<string, string>> = {
  'h/cluster': '2 api + 1 worker, Redis',
  'h/one': 'one process',
  i: '1 api + 1 worker, Redis',
  'j/cluster': 'fresh api + 1 worker, Redis',
  'j/one': 'one process',
};

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
    {
      key: 'h',
      title: '2 API processes + 1 worker on Redis, 1,000 clients split across them x 5,000 lines/s, against one process with the same load',
      spec: { kind: 'cluster-live', live: live(clients(1000), 5000, 100, duration(10000), 0), apiProcesses: 2, workers: 1 },
      rows: ['h/cluster', 'h/one'],
      versus: 'cluster',
    },
    {
      key: 'i',
      title: `a worker SIGKILLed mid-build (WORKER_LOST_MS=${LOST_WORKER_MS}): time until the build is interrupted`,
      // Not scaled: the time measured is WORKER_LOST_MS's, whatever the load.
      spec: { kind: 'lost-worker', workerLostMs: LOST_WORKER_MS, rate: 100, burstLines: 10, runningMs: 1000 },
      rows: ['i'],
      versus: 'cluster',
    },
    {
      key: 'j',
      title: 'replay of a finished 100,000-line build from an API process started after it ran, 100 clients, against one process',
      spec: { kind: 'cluster-replay', lines: Math.max(MIN_REPLAY_LINES, Math.round(100000 * scale)), clients: replayClients[1]! },
      rows: ['j/cluster', 'j/one'],
      versus: 'cluster',
      // 60–80 s a run on the 2-core machine; over five runs the ratio moved between 9x and 17x.
      maxRuns: 1,
    },
  ];
}
