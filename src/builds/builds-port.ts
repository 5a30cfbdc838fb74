import type { Build, BuildStatus } from './build-record.js';
import type { WorkerInfo } from './worker-info.js';

export type Awaitable<T> = T | Promise<T>;

/**
 * What the HTTP routes ask of the builds, wherever they are kept: in this process
 * (BuildService) or in a cluster's Redis (ClusterBuilds). Errors are the domain errors of
 * build-errors.ts, mapped to statuses in http/error-map.ts.
 */
export interface Builds {
  get(id: string): Awaitable<Build>;
  list(limit: number): Awaitable<Build[]>;
  /** The build an earlier POST with this Idempotency-Key started, if it is recent enough. */
  findByIdempotencyKey(key: string): Awaitable<Build | null>;
  /** Queues a build of a checked project folder; an existing build when the key was seen. */
  create(projectPath: string, idempotencyKey: string | null): Awaitable<{ build: Build; isNew: boolean }>;
  cancel(id: string): Awaitable<Build>;
  workers(): Awaitable<WorkerInfo[]>;
  countByStatus(): Awaitable<ReadonlyMap<BuildStatus, number>>;
}
