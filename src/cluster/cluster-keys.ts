/**
 * Every Redis key of one cluster, under REDIS_PREFIX, so that several clusters (or test runs)
 * can share one Redis. One place names them, so a key is never spelled twice.
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  /** A random tag set once per Redis life: ids of another epoch are from a Redis that lost its data. */
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  /** The cluster's event counter: the `g` of every event id. */
  get sequence(): string {
    return `${this.prefix}seq`;
  }
  /** A stream of every event of every build, in the cluster's one order; entry id `<g>-0`. */
  get events(): string {
    return `${this.prefix}events`;
  }
  /** Build ids scored by creation time, for listing newest first. */
  get builds(): string {
    return `${this.prefix}builds`;
  }
  /** Builds queued and not yet taken by a worker. */
  get queued(): string {
    return `${this.prefix}queued`;
  }
  /** Builds a worker has taken and not finished. */
  get running(): string {
    return `${this.prefix}running`;
  }
  /** Worker name → JSON of its heartbeat (what GET /api/workers lists). */
  get workers(): string {
    return `${this.prefix}workers`;
  }
  /** Worker name → build slots it has free now (admission counts them as room). */
  get freeSlots(): string {
    return `${this.prefix}free-slots`;
  }
  /** Pub/sub channel of cancel requests (a build id per message). */
  get cancelChannel(): string {
    return `${this.prefix}cancel`;
  }
  /** What BullMQ puts in front of its own keys. */
  get queuePrefix(): string {
    return `${this.prefix}bull`;
  }
  get buildPrefix(): string {
    return `${this.prefix}build:`;
  }
  /** A build's hash: its record, lease, event count, last batch applied, cancel flag. */
  build(id: string): string {
    return `${this.buildPrefix}${id}`;
  }
  /** A build's frames in order: index n - 1 holds event n of its stream. */
  frames(id: string): string {
    return `${this.prefix}frames:${id}`;
  }
  /** The build that holds a project (queued or running): at most one per project. */
  project(projectPath: string): string {
    return `${this.prefix}project:${projectPath}`;
  }
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
}
