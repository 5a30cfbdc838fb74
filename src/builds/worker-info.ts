/** A process that runs builds, as GET /api/workers lists it. */
export interface WorkerInfo {
  readonly name: string;
  readonly status: WorkerStatus;
  /** Ids of the builds it runs now. */
  readonly builds: readonly string[];
  readonly maxConcurrentBuilds: number;
  readonly startedAt: string;
  readonly lastSeenAt: string;
}

export type WorkerStatus = 'idle' | 'busy' | 'stopping' | 'lost';
