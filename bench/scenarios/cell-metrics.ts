/** What one run of one scenario row measured on one server. null: not measured in this scenario. */
export interface CellMetrics {
  /** Clients that read (a stalled client is not counted). */
  readonly clients: number;
  /** Lines of the build, i.e. the events each reader must get. */
  readonly lines: number;
  readonly offered: number;
  readonly delivered: number;
  /** From the first line (or the first connect, for a replay) to the last reader done, ms. */
  readonly wallMs: number | null;
  readonly eventsPerSec: number | null;
  /** Bytes on the wire per delivered event (the servers send the same event shape). */
  readonly bytesPerEvent: number | null;
  readonly cpuMs: number | null;
  readonly cpuUsPerEvent: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly rssStartMb: number;
  readonly rssPeakMb: number;
  readonly rssGrowthMb: number;
  readonly heapPerConnKb: number | null;
  readonly rssPerConnKb: number | null;
  /** How late build.js got its latest burst out (its pipe was full, or it was starved of CPU). */
  readonly genMaxLagMs: number | null;
  readonly connectMs: number;
  /** CPU of the load worker over the same window, as a share of one core (1 = one core busy). */
  readonly loadCpuShare: number | null;
  /** Readers that did not get every event in time (a bounded run). */
  readonly shortReaders: number;
  readonly isTimedOut: boolean;
  /** Lines the sampled readers got out of order, repeated or after a gap: must be 0. */
  readonly sequenceErrors: number;
  /** Rows e–g, OURS against itself; null elsewhere. e: connect to the first `log` event of a resume, ms. */
  readonly firstEventMs: number | null;
  /** g: spawn to the server's `listening` log line, ms. */
  readonly startupMs: number | null;
  /** g: the finished builds in DATA_DIR at start-up. */
  readonly keptBuilds: number | null;
  /** f: bytes the build wrote (each reader must get them all). */
  readonly outputBytes: number | null;
  /** e, f, g: streams (e, f) or start-ups (g) whose result was exactly right, out of `clients`; i: the lost build's record and log. */
  readonly exactReaders: number | null;
  /** Rows h–j, a cluster on Redis; null elsewhere. Redis's CPU (INFO cpu, user + system) over the measured window, ms. */
  readonly redisCpuMs: number | null;
  /** h, j: Redis's CPU ÷ delivered events, µs. */
  readonly redisCpuUsPerEvent: number | null;
  /** h, j: CPU of the worker processes over the window, ms (cpuMs is the API processes'). */
  readonly workerCpuMs: number | null;
  /** i: from the worker's SIGKILL to GET /api/builds/<id> answering `interrupted`, ms. */
  readonly interruptedMs: number | null;
}

/** The fields only rows e–g measure, all null: what the other rows put in their metrics. */
export const NOT_SELF_MEASURED = { firstEventMs: null, startupMs: null, keptBuilds: null, outputBytes: null, exactReaders: null } as const;

/** The fields only a cluster's rows (h–j) measure, all null: what a one-process row puts in its metrics. */
export const NOT_CLUSTER_MEASURED = { redisCpuMs: null, redisCpuUsPerEvent: null, workerCpuMs: null, interruptedMs: null } as const;

/** What a row of e–g measures: the rest of CellMetrics is a live-delivery figure they do not take. */
export type SelfMeasured = Pick<
  CellMetrics,
  'clients' | 'lines' | 'wallMs' | 'bytesPerEvent' | 'cpuMs' | 'shortReaders' | 'isTimedOut' | 'sequenceErrors' | 'firstEventMs' | 'startupMs' | 'keptBuilds' | 'outputBytes' | 'exactReaders'
> & { readonly rssStartBytes: number; readonly rssPeakBytes: number };

/** The metrics of a row of e–g, with the live-delivery fields none of them measures. */
export function selfMeasuredMetrics({ rssStartBytes, rssPeakBytes, ...measured }: SelfMeasured): CellMetrics {
  return {
    ...NOT_CLUSTER_MEASURED,
    ...measured,
    offered: 0,
    delivered: 0,
    eventsPerSec: null,
    cpuUsPerEvent: null,
    p50Ms: null,
    p99Ms: null,
    p999Ms: null,
    rssStartMb: rssStartBytes / MB,
    rssPeakMb: rssPeakBytes / MB,
    rssGrowthMb: (rssPeakBytes - rssStartBytes) / MB,
    heapPerConnKb: null,
    rssPerConnKb: null,
    genMaxLagMs: null,
    connectMs: 0,
    loadCpuShare: null,
  };
}


/** The measured window on CLOCK_MONOTONIC, in µs (the clock of V8's CPU profiles). */
export interface MeasuredWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** One row's result: its metrics, or why the run failed. */
export interface RowResult {
  readonly row: string;
  readonly metrics: CellMetrics | null;
  readonly error: string | null;
  readonly window?: MeasuredWindow;
  /** The server's CPU profile, when the bench ran with --profile. */
  readonly profileFile?: string;
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export const MB = 1024 * 1024;
