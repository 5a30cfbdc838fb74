import type { WorkerInfo } from '../builds/worker-info.js';
import { formatTable } from './format-table.js';

const HEADERS = ['NAME', 'STATUS', 'SLOTS', 'LAST SEEN', 'BUILDS'] as const;

/**
 * The workers of GET /api/workers as an aligned text table, by name: SLOTS is the builds it
 * runs of its MAX_CONCURRENT_BUILDS (`1/2`), LAST SEEN is measured against `nowMs`, and the
 * ids of its builds come last so that a long list never truncates.
 */
export function formatWorkerTable(workers: readonly WorkerInfo[], nowMs: number): string {
  if (workers.length === 0) return 'No workers.\n';
  const rows = [...workers]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((worker) => [
      worker.name,
      worker.status,
      `${worker.builds.length}/${worker.maxConcurrentBuilds}`,
      formatLastSeen(worker.lastSeenAt, nowMs),
      worker.builds.length === 0 ? '-' : worker.builds.join(','),
    ]);
  return formatTable(HEADERS, rows);
}

/** `4s ago`, `2m05s ago`, `3h02m ago`, `2d04h ago`; a time ahead of this clock (skew) is `0s ago`, an unreadable one `-`. */
export function formatLastSeen(lastSeenAt: string, nowMs: number): string {
  const seenMs = Date.parse(lastSeenAt);
  if (Number.isNaN(seenMs)) return '-';
  const seconds = Math.floor(Math.max(0, nowMs - seenMs) / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${two(Math.floor((seconds % 3600) / 60))}m ago`;
  return `${Math.floor(seconds / 86400)}d${two(Math.floor((seconds % 86400) / 3600))}h ago`;
}
