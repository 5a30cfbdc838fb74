import fs from 'node:fs';

/** Descriptors kept back from client connections for Node itself, data files, logs and the listening socket. */
export const RESERVED_FDS = 128;
/** Descriptors one running build may need: its steps' pipes, its history and log files, spares. */
export const FDS_PER_BUILD = 16;

/**
 * The most TCP connections the server may hold under this limit of open files (API.md,
 * Process → Connections): the limit minus a reserve of 128 + 16 per concurrent build, but never
 * less than half the limit. null when the limit is unknown or unlimited: then no cap.
 * Every connection is a descriptor; without a cap a flood of them takes the last one, and
 * the next build cannot open its pipes.
 */
export function connectionCap(openFilesLimit: number | null, maxConcurrentBuilds: number): number | null {
  if (openFilesLimit === null) return null;
  const reserve = RESERVED_FDS + FDS_PER_BUILD * maxConcurrentBuilds;
  return Math.max(openFilesLimit - reserve, Math.floor(openFilesLimit / 2));
}

/** The soft limit of open files from the text of /proc/<pid>/limits; null when unlimited or absent. */
export function parseOpenFilesLimit(limitsText: string): number | null {
  const soft = /^Max open files\s+(\S+)/m.exec(limitsText)?.[1];
  if (soft === undefined || !/^\d+$/.test(soft)) return null;
  return Number(soft);
}

/** This process's soft limit of open files (`ulimit -n`), read where Linux shows it; null elsewhere. */
export function readOpenFilesLimit(): number | null {
  try {
    return parseOpenFilesLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}
