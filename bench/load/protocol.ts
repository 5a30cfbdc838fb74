import type { LatencySummary } from './percentiles.js';

/** Messages between the bench runner and its load worker (over the child-process IPC channel). */
export type WorkerCommand =
  /** `ports`: the clients are split over them in order, the first share on the first port (a cluster's API processes). */
  | { readonly cmd: 'open'; readonly ports: readonly number[]; readonly path: string; readonly clients: number; readonly sampled: number; readonly stalled: number; readonly batch: number; readonly timeoutMs: number }
  | { readonly cmd: 'drain'; readonly expectedPerClient: number; readonly timeoutMs: number }
  | { readonly cmd: 'close' };

export interface OpenReport {
  readonly type: 'opened';
  /** Clients answered with 200. */
  readonly connected: number;
  readonly failed: number;
  readonly firstFailure: string | null;
  readonly ms: number;
}

export interface DrainReport {
  readonly type: 'drained';
  /** Line events received by the clients that read (the stalled ones left out). */
  readonly delivered: number;
  /** Readers that got fewer events than expected. */
  readonly short: number;
  readonly isTimedOut: boolean;
  /** Bytes the readers received, HTTP headers included. */
  readonly bytes: number;
  /** Lines that the sampled readers got out of order, repeated or after a gap (must be 0). */
  readonly sequenceErrors: number;
  /** From the drain command to the last reader done (all its events, or closed), ms. */
  readonly ms: number;
  readonly latency: LatencySummary;
}

export interface ClosedReport {
  readonly type: 'closed';
}

export type WorkerReport = OpenReport | DrainReport | ClosedReport | { readonly type: 'error'; readonly message: string };
