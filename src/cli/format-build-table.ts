import dayjs from 'dayjs';
import type { Build } from '../builds/build-record.js';
import { formatTable } from './format-table.js';

const HEADERS = ['ID', 'STATUS', 'EXIT', 'DURATION', 'CREATED', 'WORKER', 'PROJECT'] as const;

/**
 * Builds as an aligned text table, one row each, the project path last so that it never
 * truncates. WORKER is `-` while a build is queued (Build.worker is null then).
 */
export function formatBuildTable(builds: readonly Build[]): string {
  if (builds.length === 0) return 'No builds yet.\n';
  const rows = builds.map((build) => [
    build.id,
    build.status,
    build.exitCode === null ? '-' : String(build.exitCode),
    build.durationMs === null ? '-' : formatDuration(build.durationMs),
    dayjs(build.createdAt).format('YYYY-MM-DD HH:mm:ss'),
    // A record written before builds named their worker has no field at all.
    build.worker ?? '-',
    build.projectPath,
  ]);
  return formatTable(HEADERS, rows);
}

/** 850 ms → `0.9s`, 75 s → `1m15s`. */
export function formatDuration(durationMs: number): string {
  if (durationMs < 60000) return `${(durationMs / 1000).toFixed(1)}s`;
  const seconds = Math.round(durationMs / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}
