import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Build, BuildStatus } from './builds/build-record.js';
import type { ClientPool } from './sse/client-pool.js';

const STATUSES: readonly BuildStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];

export interface MetricsSources {
  readonly pool: ClientPool;
  /** How many builds have each status. */
  countBuilds(): ReadonlyMap<BuildStatus, number> | Promise<ReadonlyMap<BuildStatus, number>>;
  /** Events appended to the event log so far. */
  eventsAppended(): number;
}

export interface Metrics {
  readonly registry: Registry;
  /** Records a finished build's duration. */
  observeFinished(build: Build): void;
}

/**
 * The Prometheus metrics, in a registry of their own (one per app, so tests can run several).
 * Hot-path counters live as plain numbers in their owners and are read at scrape time.
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'buildlog_sse_clients',
    help: 'Open SSE streams',
    registers,
    collect() {
      this.set(sources.pool.size);
    },
  });
  counterFrom(registers, 'buildlog_sse_rejected_total', 'SSE connections refused because the pool was full', () => sources.pool.stats.rejected);
  counterFrom(registers, 'buildlog_sse_slow_clients_dropped_total', 'SSE clients dropped for not reading', () => sources.pool.stats.slowDropped);
  counterFrom(registers, 'buildlog_sse_bytes_sent_total', 'Bytes written to SSE clients', () => sources.pool.bytesSent());
  counterFrom(registers, 'buildlog_events_total', 'Events appended to the event log (each is broadcast once)', sources.eventsAppended);
  new Gauge({
    name: 'buildlog_builds',
    help: 'Builds known to the server, by status',
    labelNames: ['status'],
    registers,
    async collect() {
      const counts = await sources.countBuilds();
      for (const status of STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  const duration = new Histogram({
    name: 'buildlog_build_duration_seconds',
    help: 'Duration of finished builds, by final status',
    labelNames: ['status'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });

  return {
    registry,
    observeFinished(build) {
      if (build.durationMs !== null) duration.observe({ status: build.status }, build.durationMs / 1000);
    },
  };
}

function counterFrom(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
