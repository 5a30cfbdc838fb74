import type { DrainReport } from '../load/protocol.js';
import type { ProcessSet } from '../harness/process-set.js';
import { RssSampler } from '../harness/rss-sampler.js';
import { MB, monotonicUs, type CellMetrics } from './cell-metrics.js';

/** The delivery figures of a window: everything a live run and a replay measure alike. */
export type DeliveryMetrics = Pick<
  CellMetrics,
  | 'delivered'
  | 'wallMs'
  | 'eventsPerSec'
  | 'bytesPerEvent'
  | 'cpuMs'
  | 'cpuUsPerEvent'
  | 'rssStartMb'
  | 'rssPeakMb'
  | 'rssGrowthMb'
  | 'loadCpuShare'
  | 'shortReaders'
  | 'sequenceErrors'
  | 'isTimedOut'
>;

/** A measured window, closed when the readers are drained. */
export interface DeliveryWindow {
  /** Ends the window with the drain it waited for. */
  close(drained: DrainReport): { readonly window: { readonly fromUs: number; readonly toUs: number }; readonly metrics: DeliveryMetrics };
}

/**
 * Opens the window in which a cell is measured: server and load-worker CPU, wall time and the
 * server's RSS from now until the readers are drained, in the same order for every scenario.
 * `servers`: the process that serves the readers, or a cluster's API processes (summed).
 */
export function openDeliveryWindow(servers: ProcessSet, load: { cpuMs(): number }): DeliveryWindow {
  const rss = new RssSampler(servers.pids);
  const cpuBefore = servers.cpuMs();
  const loadCpuBefore = load.cpuMs();
  const started = performance.now();
  const fromUs = monotonicUs();
  return {
    close(drained) {
      const toUs = monotonicUs();
      const cpuMs = servers.cpuMs() - cpuBefore;
      const loadCpuMs = load.cpuMs() - loadCpuBefore;
      const wallMs = performance.now() - started;
      const peak = rss.stop();
      return {
        window: { fromUs, toUs },
        metrics: {
          delivered: drained.delivered,
          wallMs,
          eventsPerSec: drained.delivered / (wallMs / 1000),
          bytesPerEvent: drained.delivered > 0 ? drained.bytes / drained.delivered : null,
          cpuMs,
          cpuUsPerEvent: drained.delivered > 0 ? (cpuMs * 1000) / drained.delivered : null,
          rssStartMb: rss.startBytes / MB,
          rssPeakMb: peak / MB,
          rssGrowthMb: (peak - rss.startBytes) / MB,
          loadCpuShare: loadCpuMs / wallMs,
          shortReaders: drained.short,
          sequenceErrors: drained.sequenceErrors,
          isTimedOut: drained.isTimedOut,
        },
      };
    },
  };
}
